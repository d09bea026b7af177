"""Which processes have a file open: what `spm doctor` says about the warehouse file.

Read from ``/proc/<pid>/fd`` (Linux): every process of this user (every process, for root)
whose open files include the path. Elsewhere, or where ``/proc`` is not readable, the list is
empty and DuckDB's own lock message (see ``core.warehouse_lock``) still names a holder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Holder:
    """A process that has the file open."""

    pid: int
    command: str

    @property
    def ours(self) -> bool:
        """Whether the process is one of the project's writers (a run, dbt, the UI's run worker)."""
        return any(word in self.command for word in ("spm", "dagster", "dbt"))


def processes_holding(path: Path, proc: Path = Path("/proc")) -> list[Holder]:
    """Every process (but this one) with ``path`` open, by PID."""
    target = str(Path(path).resolve())
    holders = []
    for entry in proc.glob("[0-9]*"):
        pid = int(entry.name)
        if pid == os.getpid():
            continue
        if target in _open_files(entry):
            holders.append(Holder(pid, _command_line(entry)))
    return sorted(holders, key=lambda holder: holder.pid)


def _open_files(entry: Path) -> set[str]:
    """The paths a process has open; empty when it is gone or not ours to read."""
    paths = set()
    try:
        descriptors = list((entry / "fd").iterdir())
    except OSError:
        return paths
    for descriptor in descriptors:
        try:
            paths.add(os.readlink(descriptor))
        except OSError:  # closed meanwhile
            continue
    return paths


def _command_line(entry: Path) -> str:
    try:
        words = (entry / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    return " ".join(word.decode(errors="replace") for word in words if word)[:200] or "?"
