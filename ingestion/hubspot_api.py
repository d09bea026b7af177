"""Live HubSpot CRM v3 reader: the same record shapes the landing files hold.

Pages come from ``GET /crm/v3/objects/{type}`` (cursor pagination on ``paging.next.after``),
once for live and once for archived records, with the properties, associations and property
history we model. The load side is incremental on ``updatedAt`` with a lookback window: records
changed since the last cursor minus the lookback are kept and merged on ``id``, so a record
that arrives late is still applied and a repeated record changes nothing.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from ingestion.crm_objects import CrmObject

if TYPE_CHECKING:
    from dlt.sources.helpers.rest_client import RESTClient

DEFAULT_BASE_URL = "https://api.hubapi.com"
TOKEN_ENV = "SOURCES__CRM__HUBSPOT_API_TOKEN"


@dataclass
class HubSpotApi:
    """A HubSpot private-app token and the settings of the reader."""

    token: str
    base_url: str = DEFAULT_BASE_URL
    page_size: int = 100
    lookback: dt.timedelta = dt.timedelta(days=1)

    @classmethod
    def from_secrets(cls) -> HubSpotApi:
        """Token from ``SOURCES__CRM__HUBSPOT_API_TOKEN`` or dlt secrets; base URL overridable
        with ``SOURCES__CRM__HUBSPOT_BASE_URL`` (used by the tests' local fake API)."""
        import dlt

        token = os.environ.get(TOKEN_ENV) or dlt.secrets.get("sources.crm.hubspot_api_token")
        if not token:
            raise RuntimeError(
                f"HubSpot API mode needs a private-app token: set {TOKEN_ENV} or "
                "sources.crm.hubspot_api_token in .dlt/secrets.toml (or pass --landing DIR)"
            )
        base_url = os.environ.get("SOURCES__CRM__HUBSPOT_BASE_URL", DEFAULT_BASE_URL)
        return cls(token=str(token), base_url=base_url)

    def _client(self) -> RESTClient:
        from dlt.sources.helpers.rest_client import RESTClient
        from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
        from dlt.sources.helpers.rest_client.paginators import JSONResponseCursorPaginator

        return RESTClient(
            base_url=self.base_url,
            auth=BearerTokenAuth(self.token),
            paginator=JSONResponseCursorPaginator(cursor_path="paging.next.after", cursor_param="after"),
            data_selector="results",
        )

    def object_pages(self, obj: CrmObject) -> Iterator[tuple[str, list[dict]]]:
        """Pages of ``results[]`` for an object type, live then archived records."""
        client = self._client()
        path = f"/crm/v3/objects/{obj.name}"
        for archived in (False, True):
            params: dict[str, object] = {
                "limit": 50 if obj.history else self.page_size,
                "properties": ",".join(obj.properties),
                "archived": str(archived).lower(),
            }
            if obj.associations:
                params["associations"] = ",".join(obj.associations)
            if obj.history:
                params["propertiesWithHistory"] = ",".join(obj.history)
            for number, page in enumerate(client.paginate(path, params=params)):
                yield f"api:{path}?archived={str(archived).lower()}#page{number + 1}", list(page)

    def owner_pages(self) -> Iterator[tuple[str, list[dict]]]:
        """Pages of owners (users with a CRM seat), active then archived."""
        client = self._client()
        for archived in (False, True):
            params = {"limit": self.page_size, "archived": str(archived).lower()}
            for number, page in enumerate(client.paginate("/crm/v3/owners", params=params)):
                yield f"api:/crm/v3/owners?archived={str(archived).lower()}#page{number + 1}", list(page)

    def pipelines(self) -> tuple[str, dict]:
        """The deal pipelines with their stages."""
        response = self._client().get("/crm/v3/pipelines/deals")
        response.raise_for_status()
        return "api:/crm/v3/pipelines/deals", response.json()


def filter_since(table: pa.Table, cursor: str | None, lookback: dt.timedelta) -> tuple[pa.Table, str | None]:
    """Rows whose ``updatedAt`` is after ``cursor - lookback``, and the newest ``updatedAt`` seen.

    ``updatedAt`` is ISO-8601 UTC with a fixed format, so text comparison orders it correctly.
    """
    if table.num_rows == 0:
        return table, None
    updated = table.column("updatedAt")
    newest = pc.max(updated).as_py()
    if cursor:
        since = dt.datetime.fromisoformat(cursor.replace("Z", "+00:00")) - lookback
        bound = since.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        table = table.filter(pc.greater_equal(updated, bound))
    return table, newest
