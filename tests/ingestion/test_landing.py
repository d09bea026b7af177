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
