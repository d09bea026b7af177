"""The HRIS source: BambooHR-style employee directory and effective-dated job history.

Raw tables in dataset ``raw_hris``: ``employees`` (merged on ``id``) and ``job_info`` (merged on
the jobInfo row ``id``). Every batch of the landing folder holds a full export; files are merged
in name order, so the newest export wins. In API mode the same report and table are requested
from BambooHR's REST API.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import dlt
import pyarrow as pa
from dlt.sources import DltResource

from ingestion.arrow_readers import read_json_document
from ingestion.errors import IngestionError
from ingestion.file_state import iter_pending_tables
from ingestion.records import text_table
from ingestion.resource_hints import MERGE, RAW_SCHEMA_CONTRACT

SYSTEM = "hris"

EMPLOYEE_FIELDS = (
    "id",
    "employeeNumber",
    "firstName",
    "lastName",
    "displayName",
    "workEmail",
    "jobTitle",
    "department",
    "division",
    "location",
    "supervisorEId",
    "supervisor",
    "hireDate",
    "terminationDate",
    "status",
    "customSalesTeam",
    "customTerritory",
    "lastChanged",
)
JOB_INFO_FIELDS = (
    "id",
    "employeeId",
    "date",
    "location",
    "department",
    "division",
    "jobTitle",
    "reportsTo",
    "reportsToEId",
    "customSalesTeam",
    "customTerritory",
)
_NEWEST_FILE_WINS = {"_source_file": {"dedup_sort": "desc"}}


def employees_table(document: object, file: Path | str) -> pa.Table:
    """A BambooHR custom-report response as raw employee rows."""
    if not isinstance(document, dict) or not isinstance(document.get("employees"), list):
        raise IngestionError(
            'unknown layout: expected a BambooHR report {"fields": [...], "employees": [...]}', file=file
        )
    return text_table(document["employees"], EMPLOYEE_FIELDS, file=file, location="employees", required=("id",))


def job_info_table(document: object, file: Path | str) -> pa.Table:
    """BambooHR jobInfo table rows as raw job-history rows."""
    if not isinstance(document, list):
        raise IngestionError("unknown layout: expected a JSON array of jobInfo rows", file=file)
    return text_table(document, JOB_INFO_FIELDS, file=file, location="rows", required=("id", "employeeId", "date"))


@dlt.source(name="hris", max_table_nesting=0, schema_contract=RAW_SCHEMA_CONTRACT)
def hris_source(landing_dir: str | Path | None = None) -> list[DltResource]:
    """Employees and job history from ``landing_dir``, or from BambooHR when it is None
    (``SOURCES__HRIS__BAMBOOHR_API_KEY`` and ``SOURCES__HRIS__BAMBOOHR_COMPANY_DOMAIN``)."""
    landing = Path(landing_dir) if landing_dir is not None else None

    def tables(entity: str, build: Callable[[object, str], pa.Table]) -> Iterator[pa.Table]:
        if landing is not None:
            for _, table in iter_pending_tables(
                landing, SYSTEM, entity, lambda f: build(read_json_document(f.path), f.relpath)
            ):
                yield table
        else:
            origin, document = BambooHrApi.from_env().fetch(entity)
            yield build(document, origin)

    return [
        dlt.resource(
            tables("employees", employees_table),
            name="employees",
            primary_key="id",
            write_disposition=MERGE,
            columns=_NEWEST_FILE_WINS,
        ),
        dlt.resource(
            tables("job_info", job_info_table),
            name="job_info",
            primary_key="id",
            write_disposition=MERGE,
            columns=_NEWEST_FILE_WINS,
        ),
    ]


class BambooHrApi:
    """BambooHR REST API (basic auth with the API key as user name)."""

    def __init__(self, api_key: str, company_domain: str) -> None:
        self.api_key = api_key
        self.base_url = f"https://api.bamboohr.com/api/gateway.php/{company_domain}/v1"

    @classmethod
    def from_env(cls) -> BambooHrApi:
        """Credentials from the environment or dlt secrets; never from the repository."""
        key = os.environ.get("SOURCES__HRIS__BAMBOOHR_API_KEY") or dlt.secrets.get("sources.hris.bamboohr_api_key")
        domain = os.environ.get("SOURCES__HRIS__BAMBOOHR_COMPANY_DOMAIN") or dlt.secrets.get(
            "sources.hris.bamboohr_company_domain"
        )
        if not key or not domain:
            raise RuntimeError(
                "BambooHR API mode needs SOURCES__HRIS__BAMBOOHR_API_KEY and "
                "SOURCES__HRIS__BAMBOOHR_COMPANY_DOMAIN (or pass --landing DIR)"
            )
        return cls(str(key), str(domain))

    def fetch(self, entity: str) -> tuple[str, object]:
        """The employee report or the jobInfo table for all employees."""
        from dlt.sources.helpers import requests

        auth = (self.api_key, "x")
        headers = {"Accept": "application/json"}
        if entity == "employees":
            url = f"{self.base_url}/reports/custom?format=JSON&onlyCurrent=false"
            body = {"title": "Employee export", "fields": [f for f in EMPLOYEE_FIELDS if f != "id"]}
            response = requests.post(url, json=body, auth=auth, headers=headers)
        else:
            url = f"{self.base_url}/employees/all/tables/jobInfo"
            response = requests.get(url, auth=auth, headers=headers)
        response.raise_for_status()
        return f"api:{url}", response.json()
