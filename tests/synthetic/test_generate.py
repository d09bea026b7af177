"""The synthetic company: deterministic, consistent across as-of dates, and realistic enough."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import duckdb
import pytest

from synthetic import GenerationError, generate

T0, T1 = dt.date(2025, 12, 31), dt.date(2026, 1, 6)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("small") / "landing"
    generate(out, "small", 42, T0)
    return out


def _digests(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _records(root: Path, entity: str) -> dict[str, dict]:
    """Latest version of every record across batches (files in name order, newest updatedAt wins)."""
    latest: dict[str, dict] = {}
    for path in sorted((root / "crm" / entity).glob("*.jsonl")):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            if record["id"] not in latest or record["updatedAt"] >= latest[record["id"]]["updatedAt"]:
                latest[record["id"]] = record
    return latest


def test_same_seed_same_bytes(small: Path, tmp_path: Path) -> None:
    generate(tmp_path / "again", "small", 42, T0)
    assert _digests(tmp_path / "again") == _digests(small)
    generate(tmp_path / "other", "small", 7, T0)
    assert _digests(tmp_path / "other") != _digests(small)


def test_manifest_lists_every_file_with_rows_and_digest(small: Path) -> None:
    manifest = json.loads((small / "_manifest.json").read_text())
    files = manifest["batches"][0]["files"]
    on_disk = {k: v for k, v in _digests(small).items() if k != "_manifest.json"}
    assert {k: v["sha256"] for k, v in files.items()} == on_disk
    deals = files["crm/deals/2025-12-31_full-0000.jsonl"]["rows"]
    assert deals == len((small / "crm/deals/2025-12-31_full-0000.jsonl").read_text().splitlines()) > 1000


def test_full_plus_delta_equals_full_at_later_date(tmp_path: Path) -> None:
    incremental, direct = tmp_path / "inc", tmp_path / "direct"
    generate(incremental, "small", 42, T0)
    delta = generate(incremental, "small", 42, T1)
    generate(direct, "small", 42, T1)
    assert delta.kind == "delta" and 0 < delta.rows["crm/deals"] < 500
    for entity in ("deals", "contacts", "calls", "owners"):
        assert _records(incremental, entity) == _records(direct, entity), entity


def test_nothing_after_as_of(small: Path) -> None:
    end = "2026-01-01T00:00:00.000Z"
    deals = _records(small, "deals").values()
    assert all(d["createdAt"] < end and d["updatedAt"] < end for d in deals)
    assert all(h["timestamp"] < end for d in deals for h in d["propertiesWithHistory"]["dealstage"])
    assert all(c["updatedAt"] < end for c in _records(small, "calls").values())
    employees = json.loads(next((small / "hris/employees").iterdir()).read_text())["employees"]
    assert all(e["hireDate"] <= "2025-12-31" for e in employees)


def test_realism_bounds(small: Path) -> None:
    con = duckdb.connect()
    con.execute(f"create view deals as select * from read_json('{small}/crm/deals/*.jsonl')")
    con.execute(f"create view calls as select * from read_json('{small}/crm/calls/*.jsonl')")
    won, closed = con.execute(
        "select count(*) filter (where properties.dealstage = 'closedwon'), count(*) from deals "
        "where properties.pipeline = 'default' and properties.dealstage in ('closedwon', 'closedlost')"
    ).fetchone()
    assert 0.18 <= won / closed <= 0.35, won / closed
    # stage histories go backwards sometimes (newest first: an older entry with a later stage)
    order = "['appointmentscheduled','qualifiedtobuy','presentationscheduled','decisionmakerboughtin','contractsent']"
    share_back = con.execute(
        f"""with h as (select id, unnest(propertiesWithHistory.dealstage).value as v,
                   generate_subscripts(propertiesWithHistory.dealstage, 1) as i from deals),
            o as (select id, i, list_position({order}, v) as pos from h)
            select count(distinct a.id) / (select count(*) from deals)
            from o a join o b on a.id = b.id and b.i = a.i + 1 where b.pos > a.pos"""
    ).fetchone()[0]
    assert 0.03 <= share_back <= 0.15, share_back
    spike = con.execute(
        """with c as (select cast(cast(properties.closedate as timestamp) as date) d from deals
                      where properties.dealstage = 'closedwon')
           select avg(case when date_diff('day', d, last_day(date_trunc('quarter', d) + interval 2 month)) < 14
                      then 1.0 else 0 end) / (14 / 91.0) from c"""
    ).fetchone()[0]
    assert spike > 1.3, spike
    p10, p90 = con.execute(
        "select quantile_cont(cast(properties.amount as decimal(18,2)), [0.1, 0.9]) from deals"
    ).fetchone()[0]
    assert p90 / p10 > 4
    correlation = con.execute(
        """with a as (select properties.hubspot_owner_id o, count(*) n from calls group by 1),
                w as (select properties.hubspot_owner_id o, sum(cast(properties.amount as double)) amt from deals
                      where properties.dealstage = 'closedwon' group by 1)
           select corr(n, coalesce(amt, 0)) from a left join w using (o)"""
    ).fetchone()[0]
    assert correlation > 0.3, correlation


def test_people_surveys_and_plans(small: Path) -> None:
    con = duckdb.connect()
    enps = [
        r[0]
        for r in con.execute(
            f"select distinct score from read_json('{small}/surveys/answers/*.jsonl') where question_id = 'enps'"
        ).fetchall()
    ]
    assert 0 in enps and 10 in enps and len(enps) >= 8
    employees = json.loads(next((small / "hris/employees").iterdir()).read_text())["employees"]
    assert any(e["status"] == "Inactive" and e["terminationDate"] != "0000-00-00" for e in employees)
    assert all(e["terminationDate"] == "0000-00-00" for e in employees if e["status"] == "Active")
    owners = {o["id"] for o in _records(small, "owners").values()}
    assert all(d["properties"]["hubspot_owner_id"] in owners for d in _records(small, "deals").values())
    splits = con.execute(
        f"select deal_id, split_type, sum(split_pct) from read_csv('{small}/plans/credit_splits/*.csv') group by all"
    ).fetchall()
    assert splits and all(total == 100 for *_, total in splits)
    response = con.execute(
        f"""with c as (select id, createdAt::timestamp created from read_json('{small}/crm/contacts/*.jsonl')),
            a as (select unnest(associations.contacts.results).id as id, properties.hs_timestamp::timestamp ts
                  from read_json('{small}/crm/calls/*.jsonl')),
            t as (select id, min(ts) f from a group by id)
            select avg(case when f is null then 1.0 else 0 end) from c left join t using (id)"""
    ).fetchone()[0]
    assert 0.03 <= response <= 0.6


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"as_of": dt.date(2030, 1, 1)}, "outside the simulated period"),
        ({"scale": "huge"}, "unknown scale"),
    ],
)
def test_bad_arguments(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(GenerationError, match=message):
        generate(tmp_path / "out", **{"scale": "small", "seed": 1, **kwargs})


def test_folder_rules(small: Path, tmp_path: Path) -> None:
    with pytest.raises(GenerationError, match="already holds this company as of 2025-12-31"):
        generate(small, "small", 42, T0)
    with pytest.raises(GenerationError, match="seed 42"):
        generate(small, "small", 43, T1)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("x")
    with pytest.raises(GenerationError, match="not empty"):
        generate(tmp_path / "busy", "small", 42, T0)
