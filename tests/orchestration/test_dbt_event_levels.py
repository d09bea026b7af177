"""dbt's loggers, with the level checked before formatting, write exactly what they wrote before
and format only the events they write."""

from __future__ import annotations

import io
import re

import pytest
from dbt_common.events import logger as dbt_logger
from dbt_common.events.base_types import EventLevel, msg_from_base_event
from dbt_common.events.types import Note, PrintEvent, SystemExecutingCmd

from orchestration.dbt_event_levels import check_level_before_formatting


def _events() -> list:
    return [
        msg_from_base_event(SystemExecutingCmd(cmd=["select", "1"])),  # debug
        msg_from_base_event(Note(msg="a note at info")),
        msg_from_base_event(Note(msg="a note at debug"), level=EventLevel.DEBUG),
        msg_from_base_event(Note(msg="a note at warn"), level=EventLevel.WARN),
        msg_from_base_event(PrintEvent(msg="printed, whatever the level")),
    ]


def _untimed(lines: str) -> str:
    """Text lines without the wall-clock time a text logger stamps when it formats them."""
    return re.sub(r"\d{2}:\d{2}:\d{2}(\.\d+)?", "<time>", lines)


def _write(events: list, line_format: dbt_logger.LineFormat, level: EventLevel) -> tuple[str, int]:
    """What a dbt logger at ``level`` writes for ``events``, and how many lines it formatted."""
    stream = io.StringIO()
    config = dbt_logger.LoggerConfig(
        name=f"spm-test-{line_format.name}-{level.value}", line_format=line_format, level=level, output_stream=stream
    )
    cls = dbt_logger._JsonLogger if line_format == dbt_logger.LineFormat.Json else dbt_logger._TextLogger
    logger = cls(config)
    formatted = 0
    create_line = logger.create_line

    def counting(msg: object) -> str:
        nonlocal formatted
        formatted += 1
        return create_line(msg)

    logger.create_line = counting
    for msg in events:
        logger.write_line(msg)
    return stream.getvalue(), formatted


@pytest.mark.parametrize(
    "line_format", [dbt_logger.LineFormat.Json, dbt_logger.LineFormat.PlainText, dbt_logger.LineFormat.DebugText]
)
@pytest.mark.parametrize("level", [EventLevel.DEBUG, EventLevel.INFO, EventLevel.WARN, EventLevel.ERROR])
def test_same_lines_fewer_formatted(
    monkeypatch: pytest.MonkeyPatch, line_format: dbt_logger.LineFormat, level: EventLevel
) -> None:
    monkeypatch.setattr(dbt_logger._Logger, "write_line", dbt_logger._Logger.write_line)  # restored after
    events = _events()
    before, formatted_before = _write(events, line_format, level)
    assert check_level_before_formatting()
    after, formatted_after = _write(events, line_format, level)

    assert _untimed(after) == _untimed(before)
    assert formatted_before == len(events)  # dbt formats every event, written or not
    written = {EventLevel.DEBUG: 5, EventLevel.INFO: 3, EventLevel.WARN: 2, EventLevel.ERROR: 1}[level]
    assert formatted_after == written == len(after.splitlines())


def test_installed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dbt_logger._Logger, "write_line", dbt_logger._Logger.write_line)
    assert check_level_before_formatting()
    installed = dbt_logger._Logger.write_line
    assert check_level_before_formatting()
    assert dbt_logger._Logger.write_line is installed
