"""Great Expectations is imported in the background once, and a failed import stays silent there."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from spm.quality import preload


@pytest.fixture
def fresh_preload(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setattr(preload, "_thread", None)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("spm_preload_probe", "spm_preload_broken"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    return tmp_path


def test_modules_are_imported_in_a_background_thread_once(fresh_preload: Path) -> None:
    (fresh_preload / "spm_preload_probe.py").write_text(
        "import threading\nIMPORTED_BY = threading.current_thread().name\n"
    )
    thread = preload.preload_gx(("spm_preload_probe",))
    assert thread is not None and thread.daemon
    thread.join(timeout=30)
    assert sys.modules["spm_preload_probe"].IMPORTED_BY == "preload-gx"
    assert preload.preload_gx(("spm_preload_probe",)) is None, "a second call starts nothing"


def test_nothing_is_started_for_modules_already_imported(fresh_preload: Path) -> None:
    assert preload.preload_gx(("json",)) is None


def test_a_failing_import_is_left_to_the_caller(fresh_preload: Path) -> None:
    (fresh_preload / "spm_preload_broken.py").write_text("raise RuntimeError('broken on purpose')\n")
    thread = preload.preload_gx(("spm_preload_broken",))
    assert thread is not None
    thread.join(timeout=30)
    assert "spm_preload_broken" not in sys.modules
    with pytest.raises(RuntimeError, match="broken on purpose"):
        __import__("spm_preload_broken")
