"""Out-of-order versions: a record version older than the one already loaded is not loaded.

dlt's delete-insert merge keeps the newest version among the rows of one load (``dedup_sort`` on
``updated_at``), but across loads it replaces the stored row with whatever the last load
brought. A version that arrives after a newer one was loaded (a late or re-sent extract, an API
page served by a lagging replica) would overwrite the newer row and, for a deal, replace its
longer stage history with the older one. Readers therefore pass their rows through
:func:`newer_than_loaded`, which drops the rows whose key the warehouse already holds with a
newer version, before any table is derived from them; such rows go to the entity's rejects
table with the reason, like any row that is not loaded.

Versions are compared as text: ``updatedAt`` is ISO-8601 UTC in one fixed format (HubSpot's,
``2025-02-11T16:00:03.004Z``), for which text order is time order. A version equal to the stored
one is loaded again (the later load wins, as staging's tie-break on the load id assumes).
"""

from __future__ import annotations

import logging

import numpy as np
import pyarrow as pa

from ingestion.dataset_cursor import dataset_cursor
from ingestion.rejects import Split, reject_rows

logger = logging.getLogger(__name__)

_INCOMING = "_spm_incoming_versions"


class NewerThanLoaded:
    """A reader map step: ``(origin, Split)`` in, the same without the rows stored newer already.

    ``table`` is the raw table (in the pipeline's dataset) merged on ``key``; ``version`` is the
    version column of the incoming rows, compared with the stored ``updated_at``.
    """

    def __init__(self, table: str, key: str = "id", version: str = "updatedAt") -> None:
        self.table = table
        self.key = key
        self.version = version
        # Loads happen after the extract: a table absent at the first look stays absent this run.
        self._table_absent = False

    def __call__(self, item: tuple[str, Split]) -> tuple[str, Split]:
        """Drop the stale rows of one file or page."""
        origin, split = item
        if self._table_absent or split.rows.num_rows == 0:
            return item
        stale = self._stale_rows(split.rows)
        if not stale.any():
            return item
        logger.warning(
            "%s: kept %d record version(s) older than those already loaded into %s as rejects (e.g. %s %r)",
            origin,
            int(stale.sum()),
            self.table,
            self.key,
            split.rows.column(self.key)[int(np.flatnonzero(stale)[0])].as_py(),
        )
        late = reject_rows(
            split.rows,
            np.flatnonzero(stale).tolist(),
            reason="older version than the one already loaded (the newer one is kept)",
            field=self.version,
            key=self.key,
            source=origin,
        )
        return origin, Split(split.rows.filter(pa.array(~stale)), pa.concat_tables([split.rejected, late]))

    def _stale_rows(self, rows: pa.Table) -> np.ndarray:
        """Mask of the rows whose key is stored with a newer ``updated_at``."""
        stale = np.zeros(rows.num_rows, dtype=bool)
        incoming = pa.table(
            {
                "key": rows.column(self.key).cast(pa.string()),
                "version": rows.column(self.version).cast(pa.string()),
                "row": pa.array(np.arange(rows.num_rows, dtype=np.int64)),
            }
        )
        with dataset_cursor() as (client, cursor):
            found = cursor.execute(
                "select count(*) from information_schema.columns "
                "where table_schema = ? and table_name = ? and column_name in (?, 'updated_at')",
                [client.dataset_name, self.table, self.key],
            ).fetchall()[0][0]
            if found < 2:
                self._table_absent = True
                return stale
            cursor.register(_INCOMING, incoming)
            newer = cursor.execute(
                f'select i."row" from {_INCOMING} i join {client.make_qualified_table_name(self.table)} d '
                f'on d."{self.key}" = i."key" where d."updated_at" > i."version"'
            ).fetchall()
        stale[[row for (row,) in newer]] = True
        return stale


def newer_than_loaded(table: str, key: str = "id", version: str = "updatedAt") -> NewerThanLoaded:
    """The map step for a reader of ``table``'s records (see :class:`NewerThanLoaded`)."""
    return NewerThanLoaded(table, key, version)
