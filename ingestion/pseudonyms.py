"""Survey respondents are pseudonymised in the load, with a key the warehouse never holds.

The respondent key is an HMAC-SHA256 of the survey wave and the employee id under a secret key.
It is computed here, in the loading process, so the key is never written into SQL text, dbt's
compiled files, ``run_results.json`` or the warehouse: whoever reads the marts cannot recompute
it from an employee id. The wave is part of the message, so one person's keys in two waves are
unrelated and answers cannot be linked across waves (a move between teams would otherwise
single a respondent out).

The key comes from dlt's secrets (``sources.surveys.pseudonym_key`` in ``.dlt/secrets.toml``, or
``SOURCES__SURVEYS__PSEUDONYM_KEY``). Without one, a random key is generated once and kept in a
file beside the warehouse (``<warehouse>.pseudonym_key``, readable by its owner only); it is
not inside the warehouse file, nor in the serving file BI tools read. Keep it with the backups
of the warehouse: a new key gives re-delivered responses new keys.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

import dlt
import pyarrow as pa

from core import settings

#: dlt secrets key of the pseudonymisation key.
SECRET_KEY_NAME = "sources.surveys.pseudonym_key"
#: Separates the wave from the employee id in the hashed message (neither contains it).
_SEPARATOR = b"\x1f"


def key_file(warehouse: str | Path) -> Path:
    """The file holding the generated key of ``warehouse`` (beside it, never inside it)."""
    return settings.pseudonym_key_file(warehouse)


def pseudonym_key(warehouse: str | Path | None) -> bytes | None:
    """The secret key respondent keys are computed with.

    From dlt's secrets when configured; else the key generated for ``warehouse`` (created on
    first use, mode 0600); None when neither is configured nor a warehouse given (a source
    built only to describe its tables).
    """
    configured = dlt.secrets.get(SECRET_KEY_NAME)
    if configured:
        return str(configured).encode()
    if warehouse is None:
        return None
    path = key_file(warehouse)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def respondent_keys(
    survey_ids: pa.Array | pa.ChunkedArray, employee_ids: pa.Array | pa.ChunkedArray, key: bytes
) -> pa.Array:
    """HMAC-SHA256 (hex) of each ``survey_id`` + ``employee_id`` pair under ``key``; null where
    the employee id is null.

    One HMAC per distinct pair, in Python (the standard library's C implementation): responses
    are one row per person and wave, thousands, not millions.
    """
    cache: dict[tuple[str, str], str] = {}
    keys: list[str | None] = []
    for survey, employee in zip(survey_ids.to_pylist(), employee_ids.to_pylist(), strict=True):
        if employee is None:
            keys.append(None)
            continue
        pair = (survey or "", employee)
        if pair not in cache:
            message = pair[0].encode() + _SEPARATOR + pair[1].encode()
            cache[pair] = hmac.new(key, message, hashlib.sha256).hexdigest()
        keys.append(cache[pair])
    return pa.array(keys, pa.string())
