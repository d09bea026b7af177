"""CRM activity of the whole timeline, vectorised with numpy: accounts, leads, deals, stage
histories and activities. Python loops run per rep at most, never per deal or activity."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from synthetic.config import DAY_MS, SIMULATION_END, TERRITORIES, ScaleConfig, epoch_ms
from synthetic.org import Organisation

NEW_BUSINESS_STAGES = [
    "appointmentscheduled",
    "qualifiedtobuy",
    "presentationscheduled",
    "decisionmakerboughtin",
    "contractsent",
    "closedwon",
    "closedlost",
]
RENEWAL_STAGES = ["renewal_identified", "renewal_negotiation", "renewal_won", "renewal_lost"]
WON, LOST = 5, 6  # indices of closedwon / closedlost in NEW_BUSINESS_STAGES
UTC_OFFSET_HOURS = {"North America": -5, "EMEA": 0, "APAC": 10}
WARMUP_DAYS = 120
OWNER_ID_BASE, COMPANY_ID_BASE, CONTACT_ID_BASE, DEAL_ID_BASE = 70_000_000, 1_000_000, 20_000_000, 50_000_000
ACTIVITY_ID_BASE = {"calls": 100_000_000, "emails": 200_000_000, "meetings": 300_000_000}


@dataclass
class Reps:
    """Quota-carrying reps (AEs) as parallel arrays, index = rep number."""

    employee_id: np.ndarray
    owner_id: np.ndarray
    hire_day: np.ndarray  # day index of hire (may be negative: before the simulation)
    term_day: np.ndarray  # day index after the last day worked (n_days while employed)
    skill: np.ndarray
    propensity: np.ndarray
    territory: np.ndarray  # index into TERRITORIES
    successor: np.ndarray  # rep that takes over open deals at termination (-1 none)


def build_reps(org: Organisation, day0: dt.date, n_days: int, rng: np.random.Generator) -> Reps:
    """AEs of the organisation as arrays; a leaver's open deals go to a teammate employed then."""
    codes = [code for code, *_ in TERRITORIES]
    aes = [p for p in org.people if p.role == "ae"]
    term = [((p.term - day0).days if p.term else n_days) for p in aes]
    reps = Reps(
        employee_id=np.array([p.employee_id for p in aes]),
        owner_id=np.array([OWNER_ID_BASE + p.employee_id for p in aes]),
        hire_day=np.array([(p.hire - day0).days for p in aes]),
        term_day=np.array(term),
        skill=np.array([p.skill for p in aes]),
        propensity=np.array([p.propensity for p in aes]),
        territory=np.array([codes.index(p.jobs[0].territory) for p in aes]),
        successor=np.full(len(aes), -1),
    )
    team_at_end = [p.jobs[-1].team for p in aes]
    for index, person in enumerate(aes):
        if person.term is None:
            continue
        t = term[index]
        mates = [
            j
            for j, other in enumerate(aes)
            if j != index and team_at_end[j] == team_at_end[index] and reps.hire_day[j] <= t < reps.term_day[j]
        ]
        if mates:
            reps.successor[index] = mates[int(rng.integers(0, len(mates)))]
    return reps


def _hour_offsets_ms(territory: np.ndarray) -> np.ndarray:
    offsets = np.array([UTC_OFFSET_HOURS[region] for _, region, _, _ in TERRITORIES])
    return -offsets[territory] * 3_600_000


def simulate_sales(cfg: ScaleConfig, org: Organisation, rng: np.random.Generator) -> dict[str, dict[str, np.ndarray]]:
    """Every CRM record of the timeline, as column arrays per object (times in epoch ms)."""
    day0 = cfg.start - dt.timedelta(days=WARMUP_DAYS)
    n_days = (SIMULATION_END - day0).days + 1
    t0 = epoch_ms(day0)
    reps = build_reps(org, day0, n_days, rng)
    days = np.arange(n_days)
    weekday = np.array([(day0 + dt.timedelta(days=int(d))).weekday() for d in range(7)])[days % 7]
    working = weekday < 5
    active = (days[None, :] >= reps.hire_day[:, None]) & (days[None, :] < reps.term_day[:, None]) & working[None, :]
    tenure_months = np.clip((days[None, :] - reps.hire_day[:, None]) / 30.4, 0, None)
    ramp = np.clip(0.25 + tenure_months / 4.0, 0.25, 1.0)
    intensity = active * ramp * reps.propensity[:, None]
    tz = _hour_offsets_ms(reps.territory)

    def times_in_working_hours(rep: np.ndarray, day: np.ndarray) -> np.ndarray:
        return t0 + day * DAY_MS + 8 * 3_600_000 + tz[rep] + rng.integers(0, 10 * 3_600_000, size=len(rep))

    # ---- accounts: a pool per territory, owned by a rep of that territory ----------------------
    companies_per_territory = np.bincount(reps.territory, minlength=len(TERRITORIES)) * 30
    n_companies = int(companies_per_territory.sum())
    company_territory = np.repeat(np.arange(len(TERRITORIES)), companies_per_territory)
    pool_start = np.concatenate([[0], np.cumsum(companies_per_territory)[:-1]])
    reps_by_territory = [np.flatnonzero(reps.territory == t) for t in range(len(TERRITORIES))]
    company_owner = (
        np.array([reps_by_territory[t][int(rng.integers(0, len(reps_by_territory[t])))] for t in company_territory])
        if n_companies
        else np.zeros(0, dtype=int)
    )
    company_created = t0 - rng.integers(30, 1500, size=n_companies) * DAY_MS + rng.integers(0, DAY_MS, n_companies)
    companies = {
        "company_id": COMPANY_ID_BASE + np.arange(n_companies),
        "territory": company_territory,
        "owner_id": reps.owner_id[company_owner],
        "created_ms": company_created,
        "size_class": rng.choice(3, size=n_companies, p=[0.5, 0.35, 0.15]),
    }

    # ---- leads (contacts) and their lifecycle --------------------------------------------------
    lead_counts = rng.poisson(intensity**0.5 * active * (cfg.leads_per_rep_month / 21.7))
    lead_rep, lead_day = np.nonzero(lead_counts)
    repeat = lead_counts[lead_rep, lead_day]
    lead_rep, lead_day = np.repeat(lead_rep, repeat), np.repeat(lead_day, repeat)
    n_contacts = len(lead_rep)
    created = times_in_working_hours(lead_rep, lead_day)
    territory = reps.territory[lead_rep]
    company_index = pool_start[territory] + (rng.random(n_contacts) * companies_per_territory[territory]).astype(int)
    mql = created + (rng.exponential(3.0, n_contacts) * DAY_MS).astype(np.int64)
    is_mql = rng.random(n_contacts) < 0.7
    sql = mql + (rng.exponential(5.0, n_contacts) * DAY_MS).astype(np.int64)
    is_sql = is_mql & (rng.random(n_contacts) < 0.55 + 0.1 * np.log(reps.skill[lead_rep]))
    touched = rng.random(n_contacts) < np.clip(0.86 + 0.08 * np.log(reps.propensity[lead_rep]), 0.6, 0.99)
    first_touch = created + np.exp(rng.normal(np.log(2.0 * 3_600_000), 1.5, n_contacts)).astype(np.int64)
    touched &= first_touch < t0 + reps.term_day[lead_rep] * DAY_MS
    first_touch = np.where(touched, first_touch, np.iinfo(np.int64).max)

    # ---- new-business deals from sales-qualified leads -----------------------------------------
    deal_created = sql + (rng.exponential(2.0, n_contacts) * DAY_MS).astype(np.int64)
    makes_deal = is_sql & (deal_created < t0 + reps.term_day[lead_rep] * DAY_MS)
    src = np.flatnonzero(makes_deal)
    n_new = len(src)
    d_rep = lead_rep[src]
    d_created = deal_created[src]
    logit = -1.15 + 1.0 * np.log(reps.skill[d_rep]) + 0.6 * np.log(reps.propensity[d_rep]) + rng.normal(0, 0.4, n_new)
    won = rng.random(n_new) < 1 / (1 + np.exp(-logit))
    cycle = np.clip(np.exp(rng.normal(np.log(42.0), 0.5, n_new)), 8, 200)
    close = d_created + (cycle * DAY_MS).astype(np.int64)
    # quarter-end pull: won deals that would close in the 40 days before a quarter end close in its last 2 weeks
    close_day = (close - t0) // DAY_MS
    close_dates = np.datetime64(day0) + close_day.astype("timedelta64[D]")
    months = close_dates.astype("datetime64[M]").astype(int)
    quarter_end = (((months // 3) + 1) * 3).astype("datetime64[M]").astype("datetime64[D]") - np.timedelta64(1, "D")
    days_to_qe = (quarter_end - close_dates).astype(int)
    pull = won & (days_to_qe < 40) & (rng.random(n_new) < 0.45)
    pulled = (quarter_end - np.datetime64(day0)).astype(int) - rng.integers(0, 13, n_new)
    pulled_ms = t0 + pulled * DAY_MS + rng.integers(9, 20, n_new) * 3_600_000
    close = np.where(pull & (pulled_ms > d_created + 5 * DAY_MS), pulled_ms, close)
    furthest = np.where(won, 4, rng.choice(5, size=n_new, p=[0.3, 0.25, 0.2, 0.15, 0.1]))

    segment_factor = np.array([0.7, 1.3, 2.6])[companies["size_class"][company_index[src]]]
    usd_amount = np.exp(rng.normal(np.log(21_000.0), 0.7, n_new)) * segment_factor * reps.skill[d_rep] ** 0.3
    currency = np.array([c for *_, c in TERRITORIES])[reps.territory[d_rep]]
    local_per_usd = np.where(currency == "EUR", 0.92, np.where(currency == "GBP", 0.79, 1.0))
    amount = np.round(usd_amount * local_per_usd / 50) * 5000  # cents, rounded to 50 units

    # stage history matrix: up to 5 open stages, a backward move (2 entries), close, cancellation
    width = 9
    stage = np.full((n_new, width), -1)
    when = np.full((n_new, width), np.iinfo(np.int64).max)
    fractions = np.sort(rng.random((n_new, 4)), axis=1) * 0.9
    stage[:, 0], when[:, 0] = 0, d_created
    skip = rng.random(n_new) < 0.15
    skipped_stage = np.where(rng.random(n_new) < 0.5, 1, 3)
    for s in range(1, 5):
        reached = (furthest >= s) & ~(skip & (skipped_stage == s) & (furthest > s))
        stage[:, s] = np.where(reached, s, -1)
        when[:, s] = np.where(
            reached, d_created + (fractions[:, s - 1] * (close - d_created)).astype(np.int64), when[:, s]
        )
    back = (furthest >= 2) & (rng.random(n_new) < 0.14)
    back_from = np.minimum(furthest, 2 + (rng.random(n_new) * 2).astype(int))
    t_from = when[np.arange(n_new), back_from]
    t_next = np.where(back_from < 4, when[np.arange(n_new), np.minimum(back_from + 1, 4)], close)
    t_next = np.where(t_next == np.iinfo(np.int64).max, close, t_next)
    stage[:, 5] = np.where(back & (t_from < t_next), back_from - 1, -1)
    when[:, 5] = np.where(stage[:, 5] >= 0, t_from + (t_next - t_from) // 3, when[:, 5])
    stage[:, 6] = np.where(stage[:, 5] >= 0, back_from, -1)
    when[:, 6] = np.where(stage[:, 6] >= 0, t_from + 2 * (t_next - t_from) // 3, when[:, 6])
    stage[:, 7], when[:, 7] = np.where(won, WON, LOST), close
    cancelled = won & (rng.random(n_new) < 0.015)
    cancel_at = close + rng.integers(10, 80, n_new) * DAY_MS
    stage[:, 8] = np.where(cancelled, LOST, -1)
    when[:, 8] = np.where(cancelled, cancel_at, when[:, 8])

    revised = (furthest >= 2) & (rng.random(n_new) < 0.3)
    revision_at = np.where(revised, when[:, 2], np.iinfo(np.int64).max)
    revision_at = np.where(revised & (revision_at == np.iinfo(np.int64).max), close - DAY_MS, revision_at)
    amount_final = np.where(revised, np.round(amount * rng.uniform(0.75, 1.25, n_new) / 5000) * 5000, amount)
    expected_close = d_created + (np.clip(np.exp(rng.normal(np.log(45.0), 0.3, n_new)), 14, 120) * DAY_MS).astype(
        np.int64
    )

    # ---- renewals of won 12-month contracts ------------------------------------------------------
    renew = np.flatnonzero(won & ~cancelled & (rng.random(n_new) < 0.6))
    r_created = close[renew] + 300 * DAY_MS + rng.integers(0, 10, len(renew)) * DAY_MS
    r_close = r_created + rng.integers(25, 70, len(renew)) * DAY_MS
    keep = r_created < epoch_ms(SIMULATION_END)
    renew, r_created, r_close = renew[keep], r_created[keep], r_close[keep]
    n_ren = len(renew)
    r_won = rng.random(n_ren) < 0.8
    r_stage = np.full((n_ren, width), -1)
    r_when = np.full((n_ren, width), np.iinfo(np.int64).max)
    r_stage[:, 0], r_when[:, 0] = 0, r_created
    r_stage[:, 1], r_when[:, 1] = 1, r_created + (r_close - r_created) // 2
    r_stage[:, 7], r_when[:, 7] = np.where(r_won, 2, 3), r_close

    # ---- all deals -------------------------------------------------------------------------------
    rep_all = np.concatenate([d_rep, d_rep[renew]])
    n_deals = n_new + n_ren
    stage_all = np.concatenate([stage, r_stage])
    when_all = np.concatenate([when, r_when])
    order = np.argsort(when_all, axis=1, kind="stable")
    stage_all = np.take_along_axis(stage_all, order, axis=1)
    when_all = np.take_along_axis(when_all, order, axis=1)
    valid = stage_all >= 0
    hist_deal, hist_col = np.nonzero(valid)
    is_renewal = np.arange(n_deals) >= n_new
    stage_names = np.where(
        is_renewal[hist_deal],
        np.array(RENEWAL_STAGES, dtype=object)[np.clip(stage_all[hist_deal, hist_col], 0, 3)],
        np.array(NEW_BUSINESS_STAGES, dtype=object)[stage_all[hist_deal, hist_col]],
    )
    # owner: a leaver's deals still open at termination pass to the successor on that day
    term_ms = t0 + reps.term_day[rep_all] * DAY_MS
    final_close = np.where(
        is_renewal, np.concatenate([close, r_close])[np.arange(n_deals)], np.concatenate([close, r_close])
    )
    successor = reps.successor[rep_all]
    handed_over = (successor >= 0) & (term_ms < final_close) & (term_ms < epoch_ms(SIMULATION_END))
    renewal_amount = np.round(amount_final[renew] * rng.uniform(0.95, 1.15, n_ren) / 5000) * 5000
    contact_of_deal = np.concatenate([src, src[renew]])
    archived = rng.random(n_deals) < 0.005
    deals = {
        "deal_id": DEAL_ID_BASE + np.arange(n_deals),
        "is_renewal": is_renewal,
        "owner_id": reps.owner_id[rep_all],
        "new_owner_id": np.where(handed_over, reps.owner_id[np.maximum(successor, 0)], 0),
        "owner_change_ms": np.where(handed_over, term_ms, np.iinfo(np.int64).max),
        "company_id": COMPANY_ID_BASE + company_index[contact_of_deal],
        "contact_id": CONTACT_ID_BASE + contact_of_deal,
        "created_ms": np.concatenate([d_created, r_created]),
        "expected_close_ms": np.concatenate([expected_close, r_close]),
        "amount_cents": np.concatenate([amount, renewal_amount]).astype(np.int64),
        "amount_final_cents": np.concatenate([amount_final, renewal_amount]).astype(np.int64),
        "revision_ms": np.concatenate([revision_at, np.full(n_ren, np.iinfo(np.int64).max)]),
        "currency": np.concatenate([currency, currency[renew]]),
        "term_months": np.concatenate([rng.choice([12, 24, 36], n_new, p=[0.6, 0.25, 0.15]), np.full(n_ren, 12)]),
        "cancelled": np.concatenate([cancelled, np.zeros(n_ren, bool)]),
        "archived_ms": np.where(
            archived,
            np.concatenate([d_created, r_created]) + rng.integers(2, 120, n_deals) * DAY_MS,
            np.iinfo(np.int64).max,
        ),
        "lost_reason": rng.choice(["Price", "Competitor", "No decision", "Timing", "Budget"], n_deals),
    }
    history = {
        "deal_id": DEAL_ID_BASE + hist_deal,
        "stage_id": stage_names.astype(str),
        "t_ms": when_all[hist_deal, hist_col],
        "source_user": reps.owner_id[rep_all][hist_deal] - OWNER_ID_BASE,
    }
    won_time = np.full(n_contacts, np.iinfo(np.int64).max)
    won_time[src[won]] = close[won]
    contacts = {
        "contact_id": CONTACT_ID_BASE + np.arange(n_contacts),
        "owner_id": reps.owner_id[lead_rep],
        "company_id": COMPANY_ID_BASE + company_index,
        "created_ms": created,
        "mql_ms": np.where(is_mql, mql, np.iinfo(np.int64).max),
        "sql_ms": np.where(is_sql, sql, np.iinfo(np.int64).max),
        "opportunity_ms": np.where(makes_deal, deal_created, np.iinfo(np.int64).max),
        "customer_ms": won_time,
    }

    # ---- activities ------------------------------------------------------------------------------
    activities = _activities(
        cfg, reps, intensity, rng, times_in_working_hours, lead_rep, first_touch, company_index, deals, rep_all
    )
    return {
        "companies": companies,
        "contacts": contacts,
        "deals": deals,
        "history": history,
        **activities,
        "reps": {"owner_id": reps.owner_id, "employee_id": reps.employee_id},
    }


def _activities(
    cfg, reps, intensity, rng, times_in_working_hours, lead_rep, first_touch, company_index, deals, rep_all
):
    """Calls, emails and meetings per rep-day, plus each lead's first touch."""
    rates = {"calls": cfg.calls_per_rep_day, "emails": cfg.emails_per_rep_day, "meetings": cfg.meetings_per_rep_day}
    touched = np.flatnonzero(first_touch < np.iinfo(np.int64).max)
    touch_is_call = rng.random(len(touched)) < 0.4
    contact_order = np.lexsort((first_touch, lead_rep))
    rep_first = np.searchsorted(lead_rep[contact_order], np.arange(len(reps.employee_id)))
    rep_last = np.searchsorted(lead_rep[contact_order], np.arange(len(reps.employee_id)), side="right")
    deal_order = np.lexsort((deals["created_ms"], rep_all))
    deal_rep_first = np.searchsorted(rep_all[deal_order], np.arange(len(reps.employee_id)))
    deal_rep_last = np.searchsorted(rep_all[deal_order], np.arange(len(reps.employee_id)), side="right")
    out = {}
    for kind, rate in rates.items():
        counts = rng.poisson(intensity * rate)
        rep, day = np.nonzero(counts)
        repeat = counts[rep, day]
        rep, day = np.repeat(rep, repeat), np.repeat(day, repeat)
        ts = times_in_working_hours(rep, day)
        contact = np.full(len(rep), -1)
        deal = np.full(len(rep), -1)
        # np.nonzero walks the rep-by-day matrix row by row: each rep's activities are one slice
        starts = np.searchsorted(rep, np.arange(len(reps.employee_id)))
        stops = np.searchsorted(rep, np.arange(len(reps.employee_id)), side="right")
        # a contact of the rep already touched before this activity
        for r in range(len(reps.employee_id)):
            lo, hi = rep_first[r], rep_last[r]
            idx = np.arange(starts[r], stops[r])
            if hi == lo or len(idx) == 0:
                continue
            touches = first_touch[contact_order[lo:hi]]
            available = np.searchsorted(touches, ts[idx], side="right")
            pick = (rng.random(len(idx)) * available).astype(int)
            contact[idx] = np.where(available > 0, contact_order[lo:hi][np.minimum(pick, hi - lo - 1)], -1)
            dlo, dhi = deal_rep_first[r], deal_rep_last[r]
            if dhi > dlo:
                created = deals["created_ms"][deal_order[dlo:dhi]]
                newest = np.searchsorted(created, ts[idx], side="right")
                oldest = np.searchsorted(created, ts[idx] - 90 * DAY_MS)
                count = newest - oldest
                chosen = oldest + (rng.random(len(idx)) * count).astype(int)
                with_deal = (count > 0) & (rng.random(len(idx)) < 0.35)
                deal[idx] = np.where(with_deal, deal_order[dlo:dhi][np.minimum(chosen, dhi - dlo - 1)], -1)
        if kind != "meetings":
            first = touched[touch_is_call] if kind == "calls" else touched[~touch_is_call]
            rep = np.concatenate([rep, lead_rep[first]])
            ts = np.concatenate([ts, first_touch[first]])
            contact = np.concatenate([contact, first])
            deal = np.concatenate([deal, np.full(len(first), -1)])
        first_touch_flag = np.zeros(len(rep), dtype=bool)
        if kind != "meetings":
            first_touch_flag[len(first_touch_flag) - len(first) :] = True
        order = np.argsort(ts, kind="stable")
        rep, ts, contact, deal = rep[order], ts[order], contact[order], deal[order]
        first_touch_flag = first_touch_flag[order]
        n = len(rep)
        record = {
            "id": ACTIVITY_ID_BASE[kind] + np.arange(n),
            "ts_ms": ts,
            "owner_id": reps.owner_id[rep],
            "contact_id": np.where(contact >= 0, CONTACT_ID_BASE + contact, 0),
            "company_id": np.where(contact >= 0, COMPANY_ID_BASE + company_index[np.maximum(contact, 0)], 0),
            "deal_id": np.where(deal >= 0, DEAL_ID_BASE + deal, 0),
            "variant": rng.random(n),
            "first_touch": first_touch_flag,
            "duration_ms": np.exp(rng.normal(np.log(300_000), 0.8, n)).astype(np.int64),
        }
        out[kind] = record
    return out
