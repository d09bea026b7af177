"""The backup sub-commands of ``spm``: backup (a consistent copy of the warehouse) and restore."""

from __future__ import annotations

import argparse
from pathlib import Path

from core import settings
from spm.output import fail, say


def cmd_backup(args: argparse.Namespace) -> int:
    """Copy the warehouse, checkpointed, to DEST while no run writes it."""
    from core.warehouse_backup import BackupError, backup

    try:
        copied = backup(Path(args.warehouse), Path(args.destination), force=args.force, on_wait=say)
    except BackupError as exc:
        return fail("backup", str(exc))
    say(
        f"Backed up {Path(args.warehouse).resolve()} to {copied.path}: {copied.tables} tables, "
        f"{copied.bytes / 2**20:.1f} MiB in {copied.seconds:.1f} s (the file alone is the whole warehouse)"
    )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Put a backup in place of the warehouse while no run writes it."""
    from core.warehouse_backup import BackupError, restore

    warehouse = Path(args.warehouse).resolve()
    try:
        copied = restore(
            Path(args.backup),
            warehouse,
            force=args.force,
            on_wait=say,
            working_folders=[settings.dlt_pipelines_dir(warehouse)],
        )
    except BackupError as exc:
        return fail("restore", str(exc))
    say(
        f"Restored {Path(args.backup).resolve()} to {warehouse}: {copied.tables} tables.\n"
        "Next: `spm publish` refreshes the serving file; `spm run` loads the landing files newer than the backup."
    )
    return 0


def add_backup_commands(commands: argparse._SubParsersAction, formatter: type[argparse.HelpFormatter]) -> None:
    """Register ``spm backup`` and ``spm restore`` on the ``spm`` parser."""
    warehouse = {"default": str(settings.warehouse_path()), "help": "DuckDB warehouse file"}

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help_text, description=help_text, formatter_class=formatter)

    backup = command("backup", "copy the warehouse to one file while no run writes it (checkpointed: no .wal needed)")
    backup.add_argument("destination", help="the backup file to write")
    backup.add_argument("--warehouse", **warehouse)
    backup.add_argument("--force", action="store_true", help="replace the backup file if it exists")
    backup.set_defaults(func=cmd_backup)

    restore = command("restore", "put a backup made by `spm backup` in place of the warehouse")
    restore.add_argument("backup", help="the backup file to restore")
    restore.add_argument("--warehouse", **warehouse)
    restore.add_argument("--force", action="store_true", help="replace the warehouse if it exists (it is lost)")
    restore.set_defaults(func=cmd_restore)
