"""A deterministic synthetic sales organisation, written as a landing folder.

``generate(out, scale, seed, as_of)`` writes the company as of a date in the shapes the live
systems return (docs/landing_format.md). On an empty folder it writes a ``full`` batch; on a
folder holding an earlier as-of of the same company it writes a ``delta`` batch with what
changed since. The same (scale, seed, as-of sequence) always gives byte-identical files.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from synthetic import plans as plan_files
from synthetic.config import DAY_MS, HISTORY_END, SCALES, SIMULATION_END, GenerationError, epoch_ms
from synthetic.crm_writer import copy_in_parts, object_queries
from synthetic.people import employee_report, job_info_rows, owners
from synthetic.sales import NEW_BUSINESS_STAGES, RENEWAL_STAGES
from synthetic.world import World, build_world, name_lists

__all__ = ["SCALES", "GenerationError", "GenerationResult", "generate"]

GENERATOR = "synthetic/1"
MANIFEST = "_manifest.json"


@dataclass
class GenerationResult:
    """What one call wrote."""

    batch: str
    kind: str
    as_of: dt.date
    rows: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        body = ", ".join(f"{entity} {rows:,}" for entity, rows in self.rows.items())
        return f"{self.kind} batch {self.batch} (as of {self.as_of}): {body}"


def _end_of_day_ms(day: dt.date) -> int:
    return epoch_ms(day + dt.timedelta(days=1)) - 1


def _plan_batch(out: Path, scale: str, seed: int, as_of: dt.date | None) -> tuple[str, dt.date, int, dict]:
    """Decide full or delta from the folder's manifest; return (kind, as_of, since_ms, manifest)."""
    manifest_path = out / MANIFEST
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        if (manifest.get("scale"), manifest.get("seed")) != (scale, seed):
            raise GenerationError(
                f"{out} holds the {manifest.get('scale')} company with seed {manifest.get('seed')}; "
                f"write scale {scale} / seed {seed} to a new --out folder"
            )
        last = dt.date.fromisoformat(manifest["batches"][-1]["as_of"])
        as_of = as_of or last + dt.timedelta(days=1)
        if as_of <= last:
            raise GenerationError(
                f"{out} already holds this company as of {last}; a delta needs a later --as-of "
                f"(or write to a new --out folder to start over)"
            )
        return "delta", as_of, _end_of_day_ms(last), manifest
    if out.exists() and any(not p.name.startswith(".") for p in out.iterdir()):
        raise GenerationError(f"{out} is not empty and has no {MANIFEST}: choose an empty --out folder")
    return "full", as_of or HISTORY_END, -(2**62), {"generator": GENERATOR, "scale": scale, "seed": seed, "batches": []}


def generate(out_dir: Path, scale: str = "small", seed: int = 42, as_of: dt.date | None = None) -> GenerationResult:
    """Write the synthetic company as of ``as_of`` (default 2025-12-31) into ``out_dir``."""
    if scale not in SCALES:
        raise GenerationError(f"unknown scale {scale!r}; choose one of {sorted(SCALES)}")
    cfg = SCALES[scale]
    out = Path(out_dir)
    kind, as_of, since_ms, manifest = _plan_batch(out, scale, seed, as_of)
    if not cfg.start <= as_of <= SIMULATION_END:
        raise GenerationError(f"--as-of {as_of} is outside the simulated period {cfg.start} .. {SIMULATION_END}")
    world = build_world(cfg, seed)
    batch = f"{as_of.isoformat()}_{kind}"
    files = _write_batch(world, out, batch, as_of, since_ms, kind)
    manifest["batches"].append({"name": batch, "as_of": as_of.isoformat(), "kind": kind, "files": files})
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    rows: dict[str, int] = {}
    for relpath, info in files.items():
        entity = "/".join(relpath.split("/")[:2])
        rows[entity] = rows.get(entity, 0) + info["rows"]
    return GenerationResult(batch=batch, kind=kind, as_of=as_of, rows=rows)


def _write_batch(world: World, out: Path, batch: str, as_of: dt.date, since_ms: int, kind: str) -> dict:
    t = _end_of_day_ms(as_of)
    written: dict[str, int] = {}

    def text_file(relpath: str, text: str, rows: int) -> None:
        path = out / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written[relpath] = rows

    def jsonl(relpath: str, records: list[dict]) -> None:
        if records:
            text_file(relpath, "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records), len(records))

    def csv_file(relpath: str, records: list[dict], columns: list[str]) -> None:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
        text_file(relpath, buffer.getvalue(), len(records))

    # CRM ------------------------------------------------------------------------------------------
    first, last = name_lists()
    for name, sql in object_queries(first, last).items():
        parts = copy_in_parts(
            world.connection, sql, {"t": t, "since": since_ms}, out / "crm" / name, batch, world.cfg.part_rows
        )
        written.update({f"crm/{name}/{file}": rows for file, rows in parts.items()})
    jsonl(f"crm/owners/{batch}-0000.jsonl", owners(world.org, as_of, since_ms))
    if kind == "full":
        text_file(f"crm/pipelines/{batch}.json", json.dumps(_pipelines(), indent=1) + "\n", 2)

    # HRIS (full snapshot every batch) ---------------------------------------------------------------
    report = employee_report(world.org, as_of)
    text_file(f"hris/employees/{batch}.json", json.dumps(report, indent=1) + "\n", len(report["employees"]))
    jobs = job_info_rows(world.org, as_of)
    text_file(f"hris/job_info/{batch}.json", json.dumps(jobs, indent=1) + "\n", len(jobs))

    # Surveys -----------------------------------------------------------------------------------------
    iso = _iso
    sv = world.surveys
    jsonl(
        f"surveys/surveys/{batch}-0000.jsonl",
        [
            {
                "survey_id": s["survey_id"],
                "name": s["name"],
                "sent_at": iso(s["sent_ms"]),
                "closes_at": iso(s["closes_ms"]),
                "audience": "all_employees",
                "audience_size": s["audience_size"],
                "questions": [
                    {"question_id": q, "question_text": text, "type": kind_} for q, text, kind_ in _questions()
                ],
            }
            for s in sv["surveys"]
            if since_ms < s["sent_ms"] <= t
        ],
    )
    jsonl(
        f"surveys/responses/{batch}-0000.jsonl",
        [
            {
                "response_id": r["response_id"],
                "survey_id": r["survey_id"],
                "respondent_employee_id": str(r["employee_id"]),
                "submitted_at": iso(r["submitted_ms"]),
                "updated_at": iso(r["submitted_ms"]),
            }
            for r in sv["responses"]
            if since_ms < r["submitted_ms"] <= t
        ],
    )
    jsonl(
        f"surveys/answers/{batch}-0000.jsonl",
        [
            {
                "answer_id": a["answer_id"],
                "response_id": a["response_id"],
                "survey_id": a["survey_id"],
                "question_id": a["question_id"],
                "question_text": a["question_text"],
                "score": a["score"],
                "text": a["text"],
                "updated_at": iso(a["submitted_ms"]),
            }
            for a in sv["answers"]
            if since_ms < a["submitted_ms"] <= t
        ],
    )

    # Sales-plan inputs (full snapshot every batch) ------------------------------------------------------
    cfg, org = world.cfg, world.org
    csv_file(
        f"plans/quotas/{batch}.csv",
        plan_files.quotas(org, cfg, as_of),
        ["employee_id", "period_month", "quota_amount", "currency"],
    )
    csv_file(
        f"plans/plan_assignments/{batch}.csv",
        plan_files.plan_assignments(org, as_of),
        ["assignment_id", "employee_id", "plan_id", "effective_from", "effective_to"],
    )
    deals = world.sales["deals"]
    visible = deals["created_ms"] <= t
    created_days = (deals["created_ms"][visible] // DAY_MS) + dt.date(1970, 1, 1).toordinal()
    csv_file(
        f"plans/credit_splits/{batch}.csv",
        plan_files.credit_splits(
            deals["deal_id"][visible], deals["owner_id"][visible], world.sales["reps"]["employee_id"], org, created_days
        ),
        ["deal_id", "employee_id", "split_type", "split_pct"],
    )
    csv_file(
        f"plans/fx_rates/{batch}.csv",
        plan_files.fx_rates(cfg, world.rng),
        ["period_month", "currency", "rate_to_reporting"],
    )
    plans_doc = plan_files.commission_plans(cfg)
    text_file(
        f"plans/commission_plans/{batch}.yaml", yaml.safe_dump(plans_doc, sort_keys=False), len(plans_doc["plans"])
    )

    return {
        rel: {"rows": rows, "sha256": hashlib.sha256((out / rel).read_bytes()).hexdigest()}
        for rel, rows in sorted(written.items())
    }


def _iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _questions() -> list[tuple[str, str, str]]:
    from synthetic.surveys import QUESTIONS

    return QUESTIONS


def _pipelines() -> dict:
    created = "2020-01-01T00:00:00.000Z"

    def stage(stage_id: str, label: str, order: int, closed: bool, probability: str) -> dict:
        return {
            "id": stage_id,
            "label": label,
            "displayOrder": order,
            "archived": False,
            "createdAt": created,
            "updatedAt": created,
            "metadata": {"isClosed": str(closed).lower(), "probability": probability},
        }

    default_labels = [
        "Appointment Scheduled",
        "Qualified To Buy",
        "Presentation Scheduled",
        "Decision Maker Bought-In",
        "Contract Sent",
        "Closed Won",
        "Closed Lost",
    ]
    default_probabilities = ["0.2", "0.4", "0.6", "0.8", "0.9", "1.0", "0.0"]
    renewal_labels = ["Renewal Identified", "Renewal Negotiation", "Renewal Won", "Renewal Lost"]
    renewal_probabilities = ["0.5", "0.75", "1.0", "0.0"]
    return {
        "results": [
            {
                "id": "default",
                "label": "Sales Pipeline",
                "displayOrder": 0,
                "archived": False,
                "createdAt": created,
                "updatedAt": created,
                "stages": [
                    stage(s, label, i, i >= 5, p)
                    for i, (s, label, p) in enumerate(
                        zip(NEW_BUSINESS_STAGES, default_labels, default_probabilities, strict=True)
                    )
                ],
            },
            {
                "id": "renewals",
                "label": "Renewals",
                "displayOrder": 1,
                "archived": False,
                "createdAt": created,
                "updatedAt": created,
                "stages": [
                    stage(s, label, i, i >= 2, p)
                    for i, (s, label, p) in enumerate(
                        zip(RENEWAL_STAGES, renewal_labels, renewal_probabilities, strict=True)
                    )
                ],
            },
        ]
    }
