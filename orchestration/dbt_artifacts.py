"""The job's dbt commands do not write ``manifest.json``, in warm commands.

A ``dbt build`` writes the whole manifest into its target folder twice: after it has parsed the
project, and again when the build ends. For this project that is 2.2 MB of JSON, with its
``semantic_manifest.json``, each time. Both writes sit on the step's critical path: the first
before the first model, the second after the last test. A daily run has two such commands
(``dbt_models``, ``dbt_finance``). Measured on the small company's non-finance build, the time
from the last node to the command's end went from 0.15 s to 0.05 s without them.

Nothing reads the copies an invocation writes:

- Dagster's definitions use the manifest that ``dbt parse`` prepares once per version of the
  project (``dbt_project/target/manifest.json``, ``orchestration/dbt_manifest.py``). That file
  is also the one to give ``--state`` for a ``state:modified`` selection.
- dbt's partial-parse state is a separate file (``partial_parse.msgpack``), still written.
- ``run_results.json`` and ``sources.json`` are still written. The steps read the run results
  to report errors, and the bench reads them for the slowest models.

:func:`skip_manifest_writes` leaves the build's side effects on the manifest in place: the
parent, child and group maps are still built. Only ``build``, ``run`` and ``test`` skip the
write. ``dbt docs generate``, ``parse``, ``compile`` and every other command write the manifest
as usual, and so does a command dbt runs cold (outside the warm process).
"""

from __future__ import annotations

import functools
from typing import Any

#: dbt commands (``flags.WHICH``) whose manifest is not written.
COMMANDS_WITHOUT_MANIFEST = frozenset({"build", "run", "test"})
_MARKER = "_spm_skips_manifest_writes"


def skip_manifest_writes() -> bool:
    """Make ``build``, ``run`` and ``test`` leave ``manifest.json`` unwritten.

    Returns whether the change is in place (False if dbt no longer has the shape this relies
    on: dbt is then left as it is).
    """
    try:
        from dbt import flags
        from dbt.parser import manifest as manifest_parser
        from dbt.task import runnable
    except ImportError:
        return False
    write_manifest = getattr(manifest_parser, "write_manifest", None)
    if getattr(write_manifest, _MARKER, False):
        return True
    if write_manifest is None or getattr(runnable, "write_manifest", None) is not write_manifest:
        return False

    @functools.wraps(write_manifest)
    def _write_manifest(manifest: Any, target_path: str, *args: Any, **kwargs: Any) -> None:
        if getattr(flags.get_flags(), "WHICH", None) not in COMMANDS_WITHOUT_MANIFEST:
            return write_manifest(manifest, target_path, *args, **kwargs)
        # What writing it would have done to the manifest in memory, without the writing.
        manifest.build_parent_and_child_maps()
        manifest.build_group_map()
        return None

    setattr(_write_manifest, _MARKER, True)
    manifest_parser.write_manifest = _write_manifest
    runnable.write_manifest = _write_manifest
    return True
