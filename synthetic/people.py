"""HRIS exports (BambooHR shapes) and CRM owners, projected to an as-of day."""

from __future__ import annotations

import datetime as dt

from synthetic.config import epoch_ms
from synthetic.org import Organisation, Person
from synthetic.sales import OWNER_ID_BASE

EMPTY_DATE = "0000-00-00"
REPORT_FIELDS = [
    ("employeeNumber", "text", "Employee #"),
    ("firstName", "text", "First Name"),
    ("lastName", "text", "Last Name"),
    ("displayName", "text", "Display Name"),
    ("workEmail", "email", "Work Email"),
    ("jobTitle", "list", "Job Title"),
    ("department", "list", "Department"),
    ("division", "list", "Division"),
    ("location", "list", "Location"),
    ("supervisorEId", "int", "Supervisor EID"),
    ("supervisor", "text", "Supervisor"),
    ("hireDate", "date", "Hire Date"),
    ("terminationDate", "date", "Termination Date"),
    ("status", "status", "Status"),
    ("customSalesTeam", "list", "Sales Team"),
    ("customTerritory", "list", "Territory"),
    ("lastChanged", "timestamp", "Last Changed"),
]


def _iso_ms(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def employee_report(org: Organisation, as_of: dt.date) -> dict:
    """The BambooHR custom report as of ``as_of``: everyone hired by then, leavers included."""
    people = org.by_id()
    employees = []
    for person in sorted(org.people, key=lambda p: p.employee_id):
        if person.hire > as_of:
            continue
        job = person.job_at(as_of)
        terminated = person.term is not None and person.term <= as_of
        manager = people.get(job.manager_id) if job and job.manager_id else None
        changes = [person.hire, *(j.date for j in person.jobs if j.date <= as_of)]
        if terminated:
            changes.append(person.term)
        employees.append(
            {
                "id": str(person.employee_id),
                "employeeNumber": f"E{person.employee_id}",
                "firstName": person.first,
                "lastName": person.last,
                "displayName": person.display,
                "workEmail": person.email,
                "jobTitle": job.title if job else None,
                "department": "Sales" if person.role != "ops" else "Sales Operations",
                "division": job.division if job else None,
                "location": job.location if job else None,
                "supervisorEId": str(manager.employee_id) if manager else None,
                "supervisor": manager.display if manager else None,
                "hireDate": person.hire.isoformat(),
                "terminationDate": person.term.isoformat() if terminated else EMPTY_DATE,
                "status": "Inactive" if terminated else "Active",
                "customSalesTeam": job.team if job else None,
                "customTerritory": job.territory if job else None,
                "lastChanged": dt.datetime.combine(max(changes), dt.time(8), tzinfo=dt.UTC).isoformat(),
            }
        )
    return {
        "title": "Employee export",
        "fields": [{"id": f, "type": t, "name": n} for f, t, n in REPORT_FIELDS],
        "employees": employees,
    }


def job_info_rows(org: Organisation, as_of: dt.date) -> list[dict]:
    """jobInfo rows effective by ``as_of`` (row ids are stable across as-of dates)."""
    people = org.by_id()
    rows = []
    row_id = 0
    for person in sorted(org.people, key=lambda p: p.employee_id):
        for job in person.jobs:
            row_id += 1
            if job.date > as_of or person.hire > as_of:
                continue
            manager = people.get(job.manager_id) if job.manager_id else None
            rows.append(
                {
                    "id": str(row_id),
                    "employeeId": str(person.employee_id),
                    "date": job.date.isoformat(),
                    "location": job.location,
                    "department": "Sales" if person.role != "ops" else "Sales Operations",
                    "division": job.division,
                    "jobTitle": job.title,
                    "reportsTo": manager.display if manager else None,
                    "reportsToEId": str(manager.employee_id) if manager else None,
                    "customSalesTeam": job.team,
                    "customTerritory": job.territory,
                }
            )
    return rows


def owners(org: Organisation, as_of: dt.date, since_ms: int) -> list[dict]:
    """CRM owners as of ``as_of`` changed after ``since_ms``.

    Deliberate identity gaps for the link report: the first AE's owner e-mail differs from HRIS
    only in letter case, an integration user has no employee, and one SDR has no CRM seat.
    """
    teams = {name: index + 1 for index, (name, _) in enumerate(org.teams)}
    seated = [p for p in sorted(org.people, key=lambda p: p.employee_id) if p.has_crm_seat and p.hire <= as_of]
    first_ae = next((p for p in seated if p.role == "ae"), None)
    sdrs = [p for p in seated if p.role == "sdr"]
    unseated = sdrs[-1] if sdrs else None
    out: list[dict] = []
    for person in seated:
        if person is unseated:
            continue
        terminated = person.term is not None and person.term <= as_of
        job = person.job_at(as_of)
        changed = max(
            [person.hire, *(j.date for j in person.jobs if j.date <= as_of)] + ([person.term] if terminated else [])
        )
        updated = epoch_ms(changed, 9)
        if updated <= since_ms:
            continue
        email = person.email
        if person is first_ae:
            email = f"{person.first}.{person.last}@{email.split('@')[1]}"
        out.append(
            _owner(
                OWNER_ID_BASE + person.employee_id,
                email,
                person,
                epoch_ms(person.hire, 9),
                updated,
                terminated,
                job.team if job else None,
                teams,
            )
        )
    integration_day = min(p.hire for p in org.people)
    if epoch_ms(integration_day, 9) > since_ms:
        bot = Person(employee_id=999, first="Integration", last="User", role="integration", hire=integration_day)
        out.append(
            _owner(
                OWNER_ID_BASE + 999,
                "integration.user@northwind-demo.com",
                bot,
                epoch_ms(integration_day, 9),
                epoch_ms(integration_day, 9),
                False,
                None,
                teams,
            )
        )
    return out


def _owner(
    owner_id: int,
    email: str,
    person: Person,
    created: int,
    updated: int,
    archived: bool,
    team: str | None,
    teams: dict[str, int],
) -> dict:
    return {
        "id": str(owner_id),
        "email": email,
        "firstName": person.first,
        "lastName": person.last,
        "userId": 5_000_000 + person.employee_id,
        "createdAt": _iso_ms(created),
        "updatedAt": _iso_ms(updated),
        "archived": archived,
        "teams": [{"id": str(teams[team]), "name": team, "primary": True}] if team else [],
    }
