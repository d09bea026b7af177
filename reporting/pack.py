"""One month's pack: read the serving file, draw, write ``<out>/monthly_pack_YYYY-MM.html`` and
``.pdf``. Used by ``spm report`` and the Dagster asset ``reports/monthly_pack``."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from reporting.errors import PackWriteError, ReportError
from reporting.html import render_html
from reporting.pdf import write_pdf
from reporting.queries import PackData, load_pack_data, open_serving


@dataclass(frozen=True)
class Pack:
    """What a pack wrote, and what it shows."""

    html: Path
    pdf: Path | None
    data: PackData
    seconds: float
    #: What went wrong that the pack could do without (the PDF could not be printed).
    problems: list[str] = field(default_factory=list)


def file_stem(month: dt.date) -> str:
    """``monthly_pack_2025-11``."""
    return f"monthly_pack_{month:%Y-%m}"


def latest_month(serving: Path) -> dt.date:
    """The as-of month of the published data (the month of ``fct_pipeline_snapshots.captured_as_of``)."""
    connection = open_serving(serving)
    try:
        as_of = connection.execute("select max(captured_as_of) from marts.fct_pipeline_snapshots").fetchone()[0]
    except duckdb.Error as exc:  # an empty serving file, or one from before the snapshots
        raise ReportError(f"the serving file {serving} has no as-of date: {str(exc).splitlines()[0]}") from None
    finally:
        connection.close()
    if as_of is None:
        raise ReportError(f"the serving file {serving} holds no data yet (no pipeline snapshot)")
    return as_of.replace(day=1)


def build_pack(serving: Path, month: dt.date, out_dir: Path, pdf: bool = True) -> Pack:
    """Write ``month``'s pack from ``serving`` into ``out_dir``; :class:`ReportError` names what is wrong."""
    started = time.monotonic()
    data = load_pack_data(serving, month)
    html = render_html(data)
    html_path = out_dir / f"{file_stem(month)}.html"
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        partial = out_dir / f".{html_path.name}.partial"
        partial.write_text(html, encoding="utf-8")
        partial.replace(html_path)
    except OSError as exc:
        raise PackWriteError(f"cannot write the pack into {out_dir}: {exc.strerror or exc}") from None
    pdf_path, problems = (out_dir / f"{file_stem(month)}.pdf" if pdf else None), []
    if pdf_path is not None:
        try:
            write_pdf(html, pdf_path)
        except OSError as exc:
            raise PackWriteError(f"cannot write {pdf_path}: {exc.strerror or exc}") from None
        except Exception as exc:  # a WeasyPrint failure: the HTML is the pack, the PDF a print of it
            problems.append(f"the PDF could not be printed ({type(exc).__name__}: {str(exc).splitlines()[0]})")
            pdf_path = None
    return Pack(html_path, pdf_path, data, time.monotonic() - started, problems)
