"""The pack as PDF: WeasyPrint prints the same HTML (A4, charts as vector SVG)."""

from __future__ import annotations

import logging
from pathlib import Path


def write_pdf(html: str, path: Path) -> None:
    """Print ``html`` to ``path`` (written whole: a reader never sees half a file)."""
    import weasyprint  # about 1 s to import: only when a PDF is made

    logging.getLogger("weasyprint").setLevel(logging.ERROR)  # its notes on unsupported CSS are not the user's
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    partial = path.with_name(f".{path.name}.partial")
    try:
        weasyprint.HTML(string=html, base_url=str(path.parent)).write_pdf(partial)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
