"""The sales organisation over time: people, teams, territories, hires, leavers, transfers.

Loops here run per person and per month (a few thousand people), never per deal or activity.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np

from synthetic.config import SIMULATION_END, TERRITORIES, ScaleConfig

FIRST_NAMES = (
    "Ana Ben Chloe Dev Elena Farid Grace Hugo Ines Jonas Kara Liam Maya Noah Olga Pavel Quinn Rosa Sam Tara Umar "
    "Vera Will Xena Yusuf Zoe Aiko Bruno Carmen Dmitri Erin Felix Gita Hana Ivan Jade Kofi Lena Marco Nia Omar "
    "Priya Raj Sofia Tom Uma Viktor Wen Yara Zack Amir Bea Cole Dana Emil Fay Gus Holly Ira Jules"
).split()
LAST_NAMES = (
    "Adams Baker Chen Diaz Evans Fischer Garcia Hughes Ito Jensen Kim Lopez Moreau Novak Okafor Patel Quinn Rossi "
    "Silva Tanaka Ueda Varga Weber Xu Young Zimmer Alvarez Brooks Costa Dubois Eriksen Ford Gupta Haddad Ivanova "
    "Jones Kowalski Larsen Meyer Nakamura Olsen Price Reyes Schmidt Torres Ullman Vogel Walsh Yilmaz Zhang Abbott "
    "Bianchi Carter Dunn Ellis Flynn Grant Hale Ingram Jordan Klein Lund Murphy Nash Owens Park Reid Stone"
).split()
DOMAIN = "northwind-demo.com"


@dataclass
class JobRow:
    """One effective-dated jobInfo row."""

    employee_id: int
    date: dt.date
    title: str
    team: str | None
    territory: str | None
    division: str
    location: str
    manager_id: int | None


@dataclass
class Person:
    """One employee with the traits that drive their numbers."""

    employee_id: int
    first: str
    last: str
    role: str  # cro, rvp, manager, ae, sdr, ops
    hire: dt.date
    skill: float = 1.0
    propensity: float = 1.0
    engagement: float = 0.0
    term: dt.date | None = None
    has_crm_seat: bool = True
    jobs: list[JobRow] = field(default_factory=list)

    @property
    def display(self) -> str:
        """Name as displayed."""
        return f"{self.first} {self.last}"

    @property
    def email(self) -> str:
        """Work e-mail."""
        return f"{self.first}.{self.last}@{DOMAIN}".lower().replace(" ", "")

    def job_at(self, day: dt.date) -> JobRow | None:
        """The job row in effect on ``day``."""
        current = None
        for job in self.jobs:
            if job.date <= day:
                current = job
        return current


@dataclass
class Organisation:
    """Everyone who worked in sales during the simulation, with the team structure."""

    people: list[Person]
    teams: list[tuple[str, str]]  # (team name, territory code)
    promotions: list[tuple[int, dt.date]]  # (employee id, date promoted to Senior AE)

    def by_id(self) -> dict[int, Person]:
        """People by employee id."""
        return {p.employee_id: p for p in self.people}


class _Names:
    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def draw(self) -> tuple[str, str]:
        first = str(self.rng.choice(FIRST_NAMES))
        last = str(self.rng.choice(LAST_NAMES))
        candidate, n = last, 0
        while f"{first} {candidate}" in self.used:
            n += 1
            candidate = f"{last}-{LAST_NAMES[(n * 7) % len(LAST_NAMES)]}"
        self.used.add(f"{first} {candidate}")
        return first, candidate


def month_starts(start: dt.date, end: dt.date) -> list[dt.date]:
    """First day of every month from ``start``'s month to ``end``."""
    out, day = [], start.replace(day=1)
    while day <= end:
        out.append(day)
        day = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return out


def build_organisation(cfg: ScaleConfig, rng: np.random.Generator) -> Organisation:
    """Simulate the org from before history start to the end of the simulation."""
    names = _Names(rng)
    people: list[Person] = []
    next_id = [1001]
    start = cfg.start

    def hire(role: str, day: dt.date) -> Person:
        first, last = names.draw()
        skill = float(np.exp(rng.normal(0.0, 0.35)))
        person = Person(
            employee_id=next_id[0],
            first=first,
            last=last,
            role=role,
            hire=day,
            skill=skill,
            propensity=float(np.exp(0.6 * math.log(skill) + rng.normal(0.0, 0.25))),
            engagement=float(rng.normal(0.0, 1.0)),
        )
        next_id[0] += 1
        people.append(person)
        return person

    def before_start(low: int, high: int) -> dt.date:
        return start - dt.timedelta(days=int(rng.integers(low, high)))

    n_territories = min(cfg.territories, len(TERRITORIES))
    n_teams = max(1, math.ceil(cfg.reps / cfg.reps_per_team))
    teams = []
    for index in range(n_teams):
        code, region, _, _ = TERRITORIES[index % n_territories]
        segment = ("Mid-Market", "Enterprise", "Commercial")[(index // n_territories) % 3]
        teams.append((f"{code.split('-')[0]} {segment} {index // (3 * n_territories) + 1} ({code})", code))
    territory = {code: (region, office) for code, region, office, _ in TERRITORIES}

    cro = hire("cro", before_start(1500, 2500))
    cro.jobs.append(
        JobRow(cro.employee_id, cro.hire, "Chief Revenue Officer", None, None, "Sales Leadership", "New York", None)
    )
    rvps: dict[str, Person] = {}
    for _code, region, office, _ in TERRITORIES[:n_territories]:
        if region not in rvps:
            rvp = hire("rvp", before_start(900, 2000))
            rvp.jobs.append(
                JobRow(
                    rvp.employee_id, rvp.hire, "Regional Vice President", None, None, region, office, cro.employee_id
                )
            )
            rvps[region] = rvp
    for _ in range(max(1, cfg.reps // 60)):
        ops = hire("ops", before_start(200, 1500))
        ops.jobs.append(
            JobRow(
                ops.employee_id,
                ops.hire,
                "Sales Operations Analyst",
                None,
                None,
                "Sales Operations",
                "New York",
                cro.employee_id,
            )
        )

    managers: dict[str, Person] = {}

    def add_manager(team: str, code: str, day: dt.date) -> Person:
        region, office = territory[code]
        manager = hire("manager", day)
        manager.jobs.append(
            JobRow(manager.employee_id, day, "Sales Manager", team, code, region, office, rvps[region].employee_id)
        )
        managers[team] = manager
        return manager

    def add_rep(team: str, code: str, day: dt.date, role: str = "ae") -> Person:
        region, office = territory[code]
        rep = hire(role, day)
        title = "SDR" if role == "sdr" else ("Senior Account Executive" if rng.random() < 0.3 else "Account Executive")
        if role == "ae" and day >= start:
            title = "Account Executive"  # new hires start as AEs
        rep.jobs.append(JobRow(rep.employee_id, day, title, team, code, region, office, managers[team].employee_id))
        return rep

    team_members: dict[str, list[Person]] = {team: [] for team, _ in teams}
    for team, code in teams:
        add_manager(team, code, before_start(400, 1800))
    for index in range(cfg.reps):
        team, code = teams[index % n_teams]
        team_members[team].append(add_rep(team, code, before_start(30, 1400)))
    for index in range(max(1, cfg.reps // 10)):
        team, code = teams[index % n_teams]
        add_rep(team, code, before_start(30, 700), role="sdr").has_crm_seat = True

    promotions: list[tuple[int, dt.date]] = []
    for month in month_starts(start, SIMULATION_END):
        days_in_month = ((month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - month).days
        for team, code in teams:
            members = team_members[team]
            for rep in list(members):
                if rep.term is not None:
                    continue
                monthly_risk = 0.012 * (1.9 if rep.skill < 0.8 else 1.0) * (1.7 if rep.engagement < -0.8 else 1.0)
                if rng.random() < monthly_risk:
                    # a replacement hired later in the month (or after it) cannot leave before joining
                    leaving_day = month + dt.timedelta(days=int(rng.integers(0, days_in_month)))
                    rep.term = max(leaving_day, rep.hire + dt.timedelta(days=1))
                    members.remove(rep)
                    replacement_day = rep.term + dt.timedelta(days=int(rng.integers(15, 60)))
                    if replacement_day <= SIMULATION_END:
                        members.append(add_rep(team, code, replacement_day))
                    continue
                current = rep.job_at(month)
                if current is None:
                    continue
                tenure_days = (month - rep.hire).days
                if current.title == "Account Executive" and tenure_days > 540 and rng.random() < 0.025:
                    day = month + dt.timedelta(days=int(rng.integers(0, 10)))
                    rep.jobs.append(
                        JobRow(
                            rep.employee_id,
                            day,
                            "Senior Account Executive",
                            current.team,
                            current.territory,
                            current.division,
                            current.location,
                            current.manager_id,
                        )
                    )
                    promotions.append((rep.employee_id, day))
                elif n_teams > 1 and rng.random() < 0.004:
                    new_team, new_code = teams[int(rng.integers(0, n_teams))]
                    if new_team != team:
                        region, office = territory[new_code]
                        day = month + dt.timedelta(days=int(rng.integers(0, days_in_month)))
                        rep.jobs.append(
                            JobRow(
                                rep.employee_id,
                                day,
                                current.title,
                                new_team,
                                new_code,
                                region,
                                office,
                                managers[new_team].employee_id,
                            )
                        )
                        members.remove(rep)
                        team_members[new_team].append(rep)
            manager = managers[team]
            if rng.random() < 0.006:
                manager.term = month + dt.timedelta(days=int(rng.integers(0, days_in_month)))
                new_manager = add_manager(team, code, manager.term)
                for rep in members:
                    current = rep.job_at(manager.term)
                    if current is not None and rep.hire < manager.term:
                        rep.jobs.append(
                            JobRow(
                                rep.employee_id,
                                manager.term,
                                current.title,
                                team,
                                code,
                                current.division,
                                current.location,
                                new_manager.employee_id,
                            )
                        )
    for person in people:
        person.jobs.sort(key=lambda job: job.date)
    return Organisation(people=people, teams=teams, promotions=promotions)
