"""Putting a file in place so that a crash leaves either the old file or the complete new one.

The serving file (``serving.publish``) and backups and restores (``core.warehouse_backup``) are
written under a temporary name beside their target and then renamed: the new file's data is
flushed first, so the rename never exposes unwritten bytes, and the folder after, so the rename
itself survives a power cut.
"""

from __future__ import annotations

import os
from pathlib import Path


def fsync_path(path: Path) -> None:
    """Flush a file (or a folder's entries) to disk."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def replace_durably(partial: Path, target: Path) -> None:
    """Rename the written file ``partial`` over ``target``, both flushed to disk around the rename."""
    fsync_path(partial)
    os.replace(partial, target)
    fsync_path(target.parent)
