"""The landing folder: its documented layout, file discovery and per-file load fingerprints.

Layout (see docs/landing_format.md): ``<landing>/<system>/<entity>/<batch>[-<part>].<ext>``.
Files are loaded in name order; a file already loaded with the same size and modification
time is skipped, which makes a rerun of the same folder a no-op. Plan files must carry a batch
name (``<YYYY-MM-DD>_full`` or ``_delta``, optionally ``-NNNN``): the newest name is the snapshot.

A symbolic link inside the landing folder is followed only when it points to somewhere inside
the landing folder: a link to ``/etc/passwd`` (or to another team's export) is refused before
anything is read, with a message naming the link, never the target or its content.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ingestion.errors import LandingFolderError

#: system -> entity -> file extension, the layout every landing folder must follow.
LAYOUT: Mapping[str, Mapping[str, str]] = {
    "crm": {
        "owners": "jsonl",
        "companies": "jsonl",
        "contacts": "jsonl",
        "deals": "jsonl",
        "calls": "jsonl",
        "emails": "jsonl",
        "meetings": "jsonl",
        "pipelines": "json",
    },
    "hris": {"employees": "json", "job_info": "json"},
    "surveys": {"surveys": "jsonl", "responses": "jsonl", "answers": "jsonl"},
    "plans": {
        "quotas": "csv",
        "plan_assignments": "csv",
        "credit_splits": "csv",
        "fx_rates": "csv",
        "commission_plans": "yaml",
        "manual_adjustments": "csv",
    },
}

#: (system, entity) pairs a landing folder may leave out: no folder means no file (a company
#: without disputes has no manual-adjustment register; docs/landing_format.md).
OPTIONAL_ENTITIES: frozenset[tuple[str, str]] = frozenset({("plans", "manual_adjustments")})

#: A batch file's name without its extension: ``<as-of date>_<kind>[-<part>]``.
BATCH_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})_(full|delta)(-\d{4})?$")
#: Systems whose files must carry a batch name. Plan entities are snapshots and the newest file
#: by name replaces the tables, so a file named otherwise (``quotas_backup_old.csv``) would sort
#: last and silently become the truth.
BATCH_NAMED_SYSTEMS = frozenset({"plans"})


def check_batch_name(path: Path) -> None:
    """Refuse a file whose name is not a batch name (see :data:`BATCH_NAME`), naming the file."""
    match = BATCH_NAME.match(path.stem)
    valid = False
    if match:
        try:
            dt.date.fromisoformat(match.group(1))
            valid = True
        except ValueError:
            valid = False
    if not valid:
        raise LandingFolderError(
            "not a batch name: plan files are named <YYYY-MM-DD>_full or <YYYY-MM-DD>_delta, with an optional "
            "-NNNN part (docs/landing_format.md), and the newest name becomes the snapshot: rename the file or "
            "move it out of the folder; nothing was loaded",
            file=path,
        )


@dataclass(frozen=True)
class LandingFile:
    """One file of the landing folder, with the fingerprint used to skip it once loaded."""

    path: Path
    relpath: str
    size: int
    mtime_ns: int

    @property
    def fingerprint(self) -> str:
        """Size and modification time: a changed or replaced file is loaded again."""
        return f"{self.size}:{self.mtime_ns}"


def _refuse_links_out(landing: Path, path: Path) -> None:
    """Refuse ``path`` when it resolves (through symbolic links) to outside ``landing``."""
    try:
        inside = path.resolve(strict=True).is_relative_to(Path(landing).resolve(strict=True))
    except (OSError, RuntimeError):  # a dangling link or a loop of links
        inside = False
    if not inside:
        raise LandingFolderError(
            f"a symbolic link that leads out of the landing folder {landing} (or nowhere); refused, nothing read: "
            "copy the file into the landing folder instead",
            file=path,
        )


def system_dir(landing: Path, system: str) -> Path:
    """Return ``landing/system`` after checking the folder exists and has only known entities."""
    landing = Path(landing)
    if not landing.is_dir():
        raise LandingFolderError(
            "landing folder does not exist (create it with `spm generate --out DIR` or copy your exports there)",
            file=landing,
        )
    root = landing / system
    if root.is_symlink():
        _refuse_links_out(landing, root)
    if not root.is_dir():
        raise LandingFolderError(
            f"no '{system}' folder in the landing folder; expected {sorted(LAYOUT[system])} below it",
            file=root,
        )
    expected = LAYOUT[system]
    for child in sorted(root.iterdir()):
        if child.name.startswith(".") or child.name.startswith("_"):
            continue
        if not child.is_dir() or child.name not in expected:
            raise LandingFolderError(
                f"unknown layout: '{child.name}' is not one of the {system} entities "
                f"{sorted(expected)} (see docs/landing_format.md)",
                file=child,
            )
    for entity in expected:
        if (root / entity).is_symlink():
            _refuse_links_out(landing, root / entity)
        if not (root / entity).is_dir() and (system, entity) not in OPTIONAL_ENTITIES:
            raise LandingFolderError(
                f"missing entity folder '{entity}' (an entity with no data still needs its folder)",
                file=root / entity,
            )
    return root


def entity_files(landing: Path, system: str, entity: str) -> list[LandingFile]:
    """All data files of one entity, in load (name) order, after checking their extension."""
    folder = system_dir(landing, system) / entity
    extension = LAYOUT[system][entity]
    if not folder.exists() and (system, entity) in OPTIONAL_ENTITIES:
        return []
    files: list[LandingFile] = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.name.startswith("_"):
            continue
        if path.is_symlink():
            _refuse_links_out(landing, path)
        if not path.is_file() or path.suffix != f".{extension}":
            raise LandingFolderError(
                f"unknown layout: {entity} files must be .{extension} files",
                file=path,
            )
        if system in BATCH_NAMED_SYSTEMS:
            check_batch_name(path)
        stat = path.stat()
        files.append(
            LandingFile(
                path=path,
                relpath=path.relative_to(landing).as_posix(),
                size=stat.st_size,
                mtime_ns=stat.st_mtime_ns,
            )
        )
    return files


def pending(files: Iterable[LandingFile], loaded: Mapping[str, str]) -> list[LandingFile]:
    """Files not loaded yet, or changed since they were loaded (by fingerprint)."""
    return [f for f in files if loaded.get(f.relpath) != f.fingerprint]
