"""The landing layout is checked before anything is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingestion.errors import LandingFolderError
from ingestion.landing import entity_files, pending, system_dir


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(LandingFolderError, match="does not exist"):
        system_dir(tmp_path / "nope", "crm")


def test_unknown_entity_folder(tiny_landing: Path) -> None:
    (tiny_landing / "crm" / "tickets").mkdir()
    with pytest.raises(LandingFolderError, match="'tickets' is not one of the crm entities"):
        system_dir(tiny_landing, "crm")


def test_missing_entity_folder(tiny_landing: Path) -> None:
    for path in (tiny_landing / "hris" / "job_info").iterdir():
        path.unlink()
    (tiny_landing / "hris" / "job_info").rmdir()
    with pytest.raises(LandingFolderError, match="missing entity folder 'job_info'"):
        system_dir(tiny_landing, "hris")


def test_wrong_extension(tiny_landing: Path) -> None:
    (tiny_landing / "crm" / "deals" / "export.csv").write_text("id\n1\n")
    with pytest.raises(LandingFolderError, match=r"must be \.jsonl files"):
        entity_files(tiny_landing, "crm", "deals")


def test_pending_skips_loaded_and_reloads_changed(tiny_landing: Path) -> None:
    files = entity_files(tiny_landing, "crm", "deals")
    loaded = {f.relpath: f.fingerprint for f in files}
    assert pending(files, loaded) == []
    path = files[0].path
    path.write_text(path.read_text() + "\n")
    assert [f.relpath for f in pending(entity_files(tiny_landing, "crm", "deals"), loaded)] == [files[0].relpath]


SECRET = "root:x:0:0:TOPSECRET-LINE:/root:/bin/bash\n"


def _secret_outside(tmp_path: Path) -> Path:
    secret = tmp_path / "outside" / "passwd"
    secret.parent.mkdir()
    secret.write_text(SECRET)
    return secret


def test_a_file_linked_from_outside_is_refused(tiny_landing: Path, tmp_path: Path) -> None:
    link = tiny_landing / "crm" / "contacts" / "2025-02-01_delta-0000.jsonl"
    link.symlink_to(_secret_outside(tmp_path))
    with pytest.raises(LandingFolderError) as refused:
        entity_files(tiny_landing, "crm", "contacts")
    message = str(refused.value)
    assert message == (
        f"file {link}: a symbolic link that leads out of the landing folder {tiny_landing} (or nowhere); "
        "refused, nothing read: copy the file into the landing folder instead"
    )
    assert "TOPSECRET" not in message and "outside" not in message


@pytest.mark.parametrize("level", ["system", "entity"])
def test_a_folder_linked_from_outside_is_refused(level: str, tiny_landing: Path, tmp_path: Path) -> None:
    _secret_outside(tmp_path)
    folder = tiny_landing / "hris" if level == "system" else tiny_landing / "hris" / "job_info"
    for path in sorted(folder.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    folder.rmdir()
    folder.symlink_to(tmp_path / "outside", target_is_directory=True)
    with pytest.raises(LandingFolderError, match=f"file {folder}: a symbolic link that leads out of the landing"):
        entity_files(tiny_landing, "hris", "employees")


def test_a_dangling_link_is_refused(tiny_landing: Path, tmp_path: Path) -> None:
    link = tiny_landing / "plans" / "quotas" / "2025-02-01_delta.csv"
    link.symlink_to(tmp_path / "gone.csv")
    with pytest.raises(LandingFolderError, match=f"file {link}: a symbolic link that leads out of the landing"):
        entity_files(tiny_landing, "plans", "quotas")


def test_a_link_inside_the_landing_folder_is_followed(tiny_landing: Path) -> None:
    deals = tiny_landing / "crm" / "deals"
    original = sorted(deals.iterdir())[0]
    kept = tiny_landing / "crm" / "_archive" / "deals.jsonl"
    kept.parent.mkdir()
    original.rename(kept)
    original.symlink_to(kept)
    files = entity_files(tiny_landing, "crm", "deals")
    assert [f.path for f in files] == [original] and files[0].size == kept.stat().st_size


def test_spm_run_refuses_a_linked_file_before_reading_anything(
    tiny_landing: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from spm.cli import main

    link = tiny_landing / "crm" / "contacts" / "2025-02-01_delta-0000.jsonl"
    link.symlink_to(_secret_outside(tmp_path))
    warehouse = tmp_path / "w.duckdb"
    status = main(["run", "--landing", str(tiny_landing), "--warehouse", str(warehouse), "--quiet"])
    captured = capsys.readouterr()
    assert status == 2
    assert captured.err == (
        f"spm run: file {link}: a symbolic link that leads out of the landing folder {tiny_landing} (or nowhere); "
        "refused, nothing read: copy the file into the landing folder instead\n"
    )
    assert "TOPSECRET" not in captured.out + captured.err
    assert not warehouse.exists()
