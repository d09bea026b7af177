"""dbt formats, and even builds, events that no logger writes: in warm commands, it does not.

dbt fires a dozen events per node, most at debug level (every SQL statement, its status, each
connection used). Each of its loggers (stdout, where dagster-dbt reads the JSON lines, and the
file log) turns every event into its line first (for JSON: protobuf to dict, scrubbing secrets
out of it, ``json.dumps``) and only then hands the line to a Python logger, which drops it when
the event is below the logger's level. With the job's info-level stdout and warn-level file log,
nearly all of that formatting is thrown away: about 4 ms per node, and dbt's Python work is
serialised by the GIL across its threads. Building every model and test of the small company
took 9.3-9.4 s with dbt as it is and 8.1-8.4 s with the level checked first, writing the same
528 lines.

:func:`check_level_before_formatting` makes dbt's ``_Logger.write_line`` return early when its
Python logger would drop the line anyway, with the same test the logger applies
(``Logger.isEnabledFor``, on the Python level dbt's own ``_log_level_map`` gives the event's level,
the one ``send_to_logger`` logs it at). Print events, which dbt always sends as errors, and any
level it does not map, take dbt's own path unchanged. The warm dbt process
(``orchestration/dbt_warm_process.py``) installs it before it forks its commands; a command dbt
runs cold is left as dbt made it.

:func:`skip_events_nobody_writes` goes one step earlier. dbt builds an event's protobuf message
when the event is created and wraps it in a second message when it fires it, before any logger
looks at its level: with the write check alone, events still cost 2.0 s of the GIL in the large
daily build's non-finance dbt step (py-spy). Events now build their message when a field is first
read or set, and an event below every logger's level is not fired at all when no callback
listens. The small company's build on one thread took 7.2 s before and 5.3 s after, writing the
same 507 JSON lines; the large daily run's non-finance step went from 12.8-13.2 s to 12.2-12.3 s.
"""

from __future__ import annotations

import os
from typing import Any

_MARKER = "_spm_checks_level_first"


def check_level_before_formatting() -> bool:
    """Make dbt's loggers skip the events their Python logger would drop, before formatting them.

    Returns whether the check is in place (False if dbt's logger no longer has the shape this
    relies on: dbt is then left as it is).
    """
    try:
        from dbt_common.events import logger as dbt_logger
    except ImportError:
        return False
    cls = getattr(dbt_logger, "_Logger", None)
    is_print_event = getattr(dbt_logger, "_is_print_event", None)
    original = getattr(cls, "write_line", None)
    level_map = getattr(dbt_logger, "_log_level_map", None)  # dbt's own: event level -> Python level
    if cls is None or is_print_event is None or original is None or not isinstance(level_map, dict):
        return False
    python_levels = {getattr(level, "value", level): number for level, number in level_map.items()}
    if getattr(original, _MARKER, False):
        return True

    def write_line(self: Any, msg: Any) -> None:
        python_logger = getattr(self, "_python_logger", None)
        level = python_levels.get(getattr(msg.info, "level", None))
        if (
            python_logger is not None
            and level is not None
            and not is_print_event(msg)
            and not python_logger.isEnabledFor(level)
        ):
            return
        original(self, msg)

    setattr(write_line, _MARKER, True)
    write_line.__doc__ = original.__doc__
    cls.write_line = write_line
    return True


#: Instance attribute of an event whose protobuf message is not built yet: its arguments.
_PENDING = "_spm_pending_arguments"
#: At or above this Python level an event may go through dbt's warn-error handling: never skipped.
_HANDLED_LEVEL = 30


def skip_events_nobody_writes() -> bool:
    """Build a dbt event's message only when it is used, and drop the events no logger writes.

    dbt builds each event's protobuf message when the event is created (``ParseDict`` of its
    arguments) and wraps it in another one when it fires it, whether a logger writes it or not.
    Here an event keeps its arguments and builds the message (with dbt's own ``__init__``) the
    first time anything reads or sets one of its fields, and ``EventManager.fire_event`` returns
    at once for an event below the level of every logger, when no callback listens (but dbt's
    own one for behaviour-change warnings). Events at
    warn level or above, print events, forced warn-or-error handling and dbt's own binary
    serialisation test take dbt's path unchanged. Returns whether it is in place.
    """
    try:
        from dbt_common.events import base_types, event_manager
        from dbt_common.events import logger as dbt_logger
    except ImportError:
        return False
    event_cls = getattr(base_types, "BaseEvent", None)
    manager_cls = getattr(event_manager, "EventManager", None)
    level_map = getattr(dbt_logger, "_log_level_map", None)
    print_names = getattr(dbt_logger, "PRINT_EVENT_NAMES", None)
    if event_cls is None or manager_cls is None or not isinstance(level_map, dict) or print_names is None:
        return False
    original_fire = getattr(manager_cls, "fire_event", None)
    if original_fire is None or getattr(original_fire, _MARKER, False):
        return original_fire is not None
    python_levels = {getattr(level, "value", level): number for level, number in level_map.items()}
    original_init = event_cls.__init__
    # dbt adds this callback to every invocation; it reads BehaviorChangeEvent only, a warning
    # (never skipped here), so it does not need the others.
    try:
        from dbt.tracking import track_behavior_change_warn

        warnings_only: tuple[Any, ...] = (track_behavior_change_warn,)
    except ImportError:
        warnings_only = ()

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        object.__setattr__(self, _PENDING, (args, kwargs))

    def _message(self: Any) -> Any:
        pending = self.__dict__.pop(_PENDING, None)
        if pending is not None:
            original_init(self, *pending[0], **pending[1])
        return object.__getattribute__(self, "pb_msg")

    def __getattr__(self: Any, key: str) -> Any:
        if key == "pb_msg":
            if _PENDING in self.__dict__:
                return _message(self)
            raise AttributeError(key)
        return self.pb_msg.__getattribute__(key)

    def __setattr__(self: Any, key: str, value: Any) -> None:
        if key == "pb_msg":
            self.__dict__.pop(_PENDING, None)
            object.__setattr__(self, key, value)
        else:
            self.pb_msg.__setattr__(key, value)

    def fire_event(
        self: Any, e: Any, level: Any = None, node: Any = None, force_warn_or_error_handling: bool = False
    ) -> None:
        number = python_levels.get(getattr(level or e.level_tag(), "value", None))
        if (
            number is not None
            and number < _HANDLED_LEVEL
            and not force_warn_or_error_handling
            and all(callback in warnings_only for callback in self.callbacks)
            and type(e).__name__ not in print_names
            and not os.environ.get("DBT_TEST_BINARY_SERIALIZATION")
            and all(_drops(logger, number) for logger in self.loggers)
        ):
            return
        original_fire(self, e, level=level, node=node, force_warn_or_error_handling=force_warn_or_error_handling)

    setattr(fire_event, _MARKER, True)
    event_cls.__init__ = __init__
    event_cls.__getattr__ = __getattr__
    event_cls.__setattr__ = __setattr__
    manager_cls.fire_event = fire_event
    return True


def _drops(logger: Any, number: int) -> bool:
    """Whether dbt ``logger`` would drop a line at Python level ``number`` (its Python logger's test)."""
    python_logger = getattr(logger, "_python_logger", None)
    return python_logger is not None and not python_logger.isEnabledFor(number)
