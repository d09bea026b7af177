"""Errors raised for bad input: they always say which file, line and field."""

from __future__ import annotations

from pathlib import Path


class IngestionError(ValueError):
    """Bad input that stops a load before anything is written.

    The message names the file (or API page), the 1-based line or record number and the field,
    so that whoever maintains the export can fix it.
    """

    def __init__(
        self,
        message: str,
        *,
        file: Path | str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.file = str(file) if file is not None else None
        self.line = line
        self.field = field
        where = []
        if self.file:
            where.append(f"file {self.file}")
        if line is not None:
            where.append(f"line {line}")
        if field:
            where.append(f"field '{field}'")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class LandingFolderError(IngestionError):
    """The landing folder is missing or does not have the documented layout."""
