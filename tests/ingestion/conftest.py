"""Fixtures shared by the ingestion tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.ingestion.test_hubspot_api import FakeHubSpot
from tests.tiny_landing import write_tiny_landing


@pytest.fixture
def fake_hubspot(tmp_path: Path) -> Iterator[str]:
    """HubSpot's v3 endpoints on loopback, serving ``FakeHubSpot.records`` (the tiny company);
    ``FakeHubSpot.requests`` lists the paths asked for since the fixture started."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeHubSpot)
    server.landing = write_tiny_landing(tmp_path / "api_landing")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeHubSpot.requests = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
