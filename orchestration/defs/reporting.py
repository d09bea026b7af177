"""The monthly pack as an asset: ``reports/monthly_pack``, rebuilt after every publish.

It reads only the serving file the publish wrote (``serving/database``), never the warehouse,
so it takes no lock and no run waits for it. It runs in a job of its own, ``monthly_pack_job``:
after every successful ``publish_job`` (the ``monthly_pack_after_publish`` sensor for runs
launched from the UI or a schedule; `spm run`, `close-period` and `reopen-period` start it
themselves). The month is the as-of month of the published data unless configured.

It never fails a run for a reason nobody can act on: when the published data has no month to
show (an empty company, a serving file from before this version) or the PDF cannot be printed,
it logs a warning and skips (the HTML is still written when only the PDF failed). It fails, naming
the problem, when the configured month is not ``YYYY-MM`` or the output folder cannot be written.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field

from core import settings
from orchestration.defs.serving import SERVING_KEY
from orchestration.resources import WarehouseResource

PACK_KEY = dg.AssetKey(["reports", "monthly_pack"])
#: Name of the pack's step.
PACK_STEP = "monthly_pack"
#: Metadata key of the observation a skipped pack records: why it was not written.
SKIPPED = "not_written"


class MonthlyPackConfig(dg.Config):
    """Which month and where."""

    month: str = Field(default="", description="YYYY-MM; empty: the as-of month of the published data.")
    out_dir: str = Field(default="", description="Folder of the pack; empty: SPM_REPORTS_DIR, else data/reports.")
    serving_path: str = Field(
        default="", description="The serving file to read; empty: SPM_SERVING, else the one beside the warehouse."
    )
    pdf: bool = Field(default=True, description="Also print the pack to PDF.")


def pack_metadata(pack: Any) -> dict[str, Any]:
    """The materialization's metadata: the files, the month and the run whose data it shows."""
    publication = pack.data.publication
    metadata: dict[str, Any] = {
        "html": dg.MetadataValue.path(str(pack.html)),
        "month": pack.data.label,
        "data_as_of": str(publication.as_of or ""),
        "validated_by_run": publication.run_id,
        "seconds": round(pack.seconds, 2),
    }
    if pack.pdf is not None:
        metadata["pdf"] = dg.MetadataValue.path(str(pack.pdf))
    return metadata


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            PACK_KEY,
            deps=[SERVING_KEY],
            group_name="serving",
            kinds={"html", "pdf"},
            skippable=True,
            description="The monthly pack (docs/monthly_pack.md): one self-contained HTML file with static SVG "
            "charts and its PDF, for the as-of month of the published data, read from the serving file. Its "
            "metadata has the paths.",
        )
    ],
    name=PACK_STEP,
    description="Write the monthly pack of the published data (HTML and PDF); skipped with a warning when there "
    "is no month to show.",
)
def monthly_pack(
    context: dg.AssetExecutionContext, config: MonthlyPackConfig, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult | dg.AssetObservation]:
    from reporting.errors import PackWriteError, ReportError
    from reporting.pack import build_pack, latest_month
    from reporting.queries import parse_month

    serving = Path(config.serving_path).resolve() if config.serving_path else settings.serving_path(warehouse.path)
    out_dir = Path(config.out_dir).resolve() if config.out_dir else settings.reports_dir()
    try:
        month = parse_month(config.month) if config.month else latest_month(serving)
    except ReportError as error:
        if config.month:
            raise dg.Failure(description=f"monthly_pack: {error}") from None
        yield _skipped(context, str(error))
        return
    try:
        pack = build_pack(serving, month, out_dir, pdf=config.pdf)
    except PackWriteError as error:
        raise dg.Failure(description=str(error)) from None
    except ReportError as error:  # no data for the month, or no serving file to read
        yield _skipped(context, str(error))
        return
    for problem in pack.problems:
        context.log.warning(f"monthly pack {pack.data.label}: {problem}")
    context.log.info(f"monthly pack {pack.data.label} written to {pack.html} in {pack.seconds:.1f} s")
    yield dg.MaterializeResult(asset_key=PACK_KEY, metadata=pack_metadata(pack))


def _skipped(context: dg.AssetExecutionContext, reason: str) -> dg.AssetObservation:
    """The pack was not written, and why: a warning in the log and an observation in the UI."""
    context.log.warning(f"monthly pack not written: {reason}")
    return dg.AssetObservation(asset_key=PACK_KEY, metadata={SKIPPED: reason})


def definitions() -> dg.Definitions:
    """The pack's asset (its job and sensor are in ``schedules.py`` with the others)."""
    return dg.Definitions(assets=[monthly_pack])
