"""dbt's loggers, with the level checked before formatting, write exactly what they wrote before
and format only the events they write; events nobody writes are neither fired nor built."""

from __future__ import annotations

import io
import re

import pytest
from dbt_common.events import logger as dbt_logger
from dbt_common.events.base_types import BaseEvent, EventLevel, msg_from_base_event
from dbt_common.events.event_manager import EventManager
from dbt_common.events.types import Note, PrintEvent, SystemExecutingCmd
from dbt_common.exceptions.events import EventCompilationError

from orchestration.dbt_event_levels import check_level_before_formatting, skip_events_nobody_writes

PENDING = "_spm_pending_arguments"


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


@pytest.fixture
def restored_events(monkeypatch: pytest.MonkeyPatch) -> None:
    """dbt's event and event manager classes as they were, once the test is over."""
    for name in ("__init__", "__getattr__", "__setattr__"):
        monkeypatch.setattr(BaseEvent, name, getattr(BaseEvent, name))
    monkeypatch.setattr(EventManager, "fire_event", EventManager.fire_event)


def _fire_all(level: EventLevel, callbacks: list) -> tuple[str, list]:
    """What a manager with one JSON logger at ``level`` writes for fresh events, and the events."""
    stream = io.StringIO()
    manager = EventManager()
    manager.add_logger(
        dbt_logger.LoggerConfig(
            name=f"spm-test-manager-{level.value}",
            line_format=dbt_logger.LineFormat.Json,
            level=level,
            output_stream=stream,
        )
    )
    manager.callbacks = list(callbacks)
    events = [
        SystemExecutingCmd(cmd=["select", "1"]),  # debug
        Note(msg="a note at info"),
        PrintEvent(msg="printed, whatever the level"),
    ]
    for event in events:
        manager.fire_event(event)
    manager.fire_event(Note(msg="a note at debug"), level=EventLevel.DEBUG)
    return stream.getvalue(), events


def _unstamped(lines: str) -> list[dict]:
    """JSON log lines without the time, process and thread they were written at."""
    import json

    out = []
    for line in lines.splitlines():
        record = json.loads(line)
        for key in ("ts", "pid", "thread", "invocation_id"):
            record["info"].pop(key, None)
        out.append(record)
    return out


@pytest.mark.parametrize("level", [EventLevel.DEBUG, EventLevel.INFO, EventLevel.ERROR])
def test_events_nobody_writes_are_neither_fired_nor_built(restored_events: None, level: EventLevel) -> None:
    before, _ = _fire_all(level, [])
    assert skip_events_nobody_writes()
    after, events = _fire_all(level, [])

    assert _unstamped(after) == _unstamped(before)
    written = {EventLevel.DEBUG: 4, EventLevel.INFO: 2, EventLevel.ERROR: 1}[level]
    assert len(after.splitlines()) == written
    debug_cmd, info_note, printed = events
    # the debug command's message is never built below debug; the print event always is
    assert (PENDING in debug_cmd.__dict__) == (level != EventLevel.DEBUG)
    assert (PENDING in info_note.__dict__) == (level == EventLevel.ERROR)
    assert PENDING not in printed.__dict__


def test_a_listening_callback_still_gets_every_event(restored_events: None) -> None:
    assert skip_events_nobody_writes()
    heard: list = []
    _, events = _fire_all(EventLevel.ERROR, [heard.append])
    assert [msg.info.name for msg in heard] == ["SystemExecutingCmd", "Note", "PrintEvent", "Note"]
    assert heard[0].data.cmd == ["select", "1"]
    assert all(PENDING not in event.__dict__ for event in events)


def test_warnings_keep_dbts_warn_error_handling(restored_events: None) -> None:
    assert skip_events_nobody_writes()
    manager = EventManager()
    manager.add_logger(
        dbt_logger.LoggerConfig(name="spm-test-warn", level=EventLevel.ERROR, output_stream=io.StringIO())
    )
    manager.require_warn_or_error_handling = True
    manager.warn_error = True
    with pytest.raises(EventCompilationError):
        manager.fire_event(Note(msg="a warning that --warn-error turns into an error"), level=EventLevel.WARN)


def test_a_lazy_event_reads_and_writes_as_dbts(restored_events: None) -> None:
    eager = SystemExecutingCmd(cmd=["dbt", "build"])
    assert skip_events_nobody_writes()
    lazy = SystemExecutingCmd(cmd=["dbt", "build"])
    assert PENDING in lazy.__dict__
    assert list(lazy.cmd) == ["dbt", "build"]  # a field read builds the message
    assert PENDING not in lazy.__dict__
    assert lazy.to_dict() == eager.to_dict() and lazy.message() == eager.message()

    written = Note(msg="first")
    written.msg = "second"  # a field set builds the message first, then sets the field
    assert written.to_dict() == {"msg": "second"}
    assert msg_from_base_event(Note(msg="wrapped")).data.msg == "wrapped"

    broken = Note(no_such_field="x")  # dbt raises on a bad field under pytest: now when built
    with pytest.raises(Exception, match="Unable to parse logging event dictionary"):
        broken.to_dict()


def test_skipping_installed_once(restored_events: None) -> None:
    assert skip_events_nobody_writes()
    installed = (BaseEvent.__init__, EventManager.fire_event)
    assert skip_events_nobody_writes()
    assert (BaseEvent.__init__, EventManager.fire_event) == installed
