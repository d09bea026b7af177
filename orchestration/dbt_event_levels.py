"""dbt's loggers check an event's level only after formatting it: in warm commands, check first.

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
"""

from __future__ import annotations

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
