"""dbt compiles each Jinja source once per warm process, not once per node and command.

dbt makes a new Jinja environment for every string it renders, and compiles the string into
Python code each time. The strings it renders are:

- each node's SQL;
- each test's keyword arguments;
- the templates inside the macros it calls.

Only macros have a cache in dbt, and the warm process fills it (``_compile_macros`` in
``orchestration/dbt_warm_process.py``). The rest is compiled again by every command: 378
compilations, 0.49 s on one thread, in the non-finance build. Many of the strings repeat, for
example ``{{ test_primary_key(**_dbt_generic_test_kwargs) }}`` for every key test.

:func:`cache_compiled_templates` keeps the code compiled from each source, one cache per kind of
dbt environment. :func:`precompile_nodes` fills the cache in the warm process with every node's
SQL and every test's keyword arguments (410 sources, 0.25 s of the warm-up, while the run loads
its sources), so the commands forked from it start with the cache full: the same build then
compiles 4 strings, in 0.002 s.

The compiled code is the same as dbt's own:

- Jinja's code for a source depends only on the environment's class, extensions and filters;
  dbt's environments differ only in their class (text or native) and in ``undefined``. Those
  parts are the cache key, with the source.
- ``undefined`` is read from the environment when the template runs, not when it compiles.
- Each template is still built from the code with its own environment and globals (Jinja's
  bytecode cache works the same way for templates from a loader).
- A source that fails to compile is not cached, so it fails again with dbt's error.
- With dbt's macro debugging on (``DBT_MACRO_DEBUGGING``), the cache is bypassed, so dbt can
  register each source in the line cache.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Hashable
from typing import Any

_MARKER = "_spm_caches_compiled_templates"
#: Compiled code, by (environment class, extensions, filters, source).
_CODE: dict[Hashable, Any] = {}


def cache_compiled_templates() -> bool:
    """Make dbt's Jinja environments reuse the code compiled from a source they compiled before.

    Returns whether the cache is in place (False if dbt no longer has the shape this relies on:
    dbt is then left as it is).
    """
    try:
        from dbt_common.clients import jinja as dbt_jinja
    except ImportError:
        return False
    environment = getattr(dbt_jinja, "MacroFuzzEnvironment", None)
    compile_source = getattr(environment, "compile", None)
    if environment is None or compile_source is None:
        return False
    if getattr(compile_source, _MARKER, False):
        return True

    @functools.wraps(compile_source)
    def _compile(
        self: Any,
        source: Any,
        name: str | None = None,
        filename: str | None = None,
        raw: bool = False,
        defer_init: bool = False,
    ) -> Any:
        if not isinstance(source, str) or name or filename or raw or defer_init or dbt_jinja.MACRO_DEBUGGING:
            return compile_source(self, source, name, filename, raw, defer_init)
        key = (type(self), tuple(sorted(self.extensions)), tuple(sorted(self.filters)), source)
        code = _CODE.get(key)
        if code is None:
            code = _CODE[key] = compile_source(self, source)
        return code

    setattr(_compile, _MARKER, True)
    environment.compile = _compile
    return True


def precompile_nodes(manifest: Any) -> int:
    """Compile each node's SQL and each test's keyword arguments as dbt will; return how many.

    Sources dbt would not compile are skipped (SQL without Jinja in it), and so are those that
    fail: the command that renders them reports the error.
    """
    from dbt.clients.jinja import _HAS_RENDER_CHARS_PAT, get_template

    compiled = 0
    for node in (getattr(manifest, "nodes", None) or {}).values():
        sources = [(getattr(node, "raw_code", None), False)]
        metadata = getattr(node, "test_metadata", None)
        sources += [(value, True) for value in _strings(getattr(metadata, "kwargs", None) or {})]
        for source, native in sources:
            # dbt renders a plain string as it is, but compiles it anyway when rendering natively
            if not isinstance(source, str) or not (native or _HAS_RENDER_CHARS_PAT.search(source)):
                continue
            try:
                get_template(source, {}, node, native=native)
            except Exception:  # the command that renders it raises it, with dbt's context
                continue
            compiled += 1
    return compiled


#: A test argument dbt wraps in ``{{ }}`` before rendering it (as ``add_rendered_test_kwargs``).
_FUNCTION_ARGUMENT = re.compile(r"^\s*(env_var|ref|var|source|doc)\s*\(.+\)\s*$")


def _strings(kwargs: Any, path: tuple = ()) -> list[str]:
    """The test arguments dbt renders natively, as it will render them (column names are not)."""
    if isinstance(kwargs, dict):
        return [text for key, value in kwargs.items() for text in _strings(value, (*path, key))]
    if isinstance(kwargs, list | tuple):
        return [text for index, value in enumerate(kwargs) for text in _strings(value, (*path, index))]
    if not isinstance(kwargs, str) or path == ("column_name",):
        return []
    return [f"{{{{ {kwargs} }}}}" if _FUNCTION_ARGUMENT.match(kwargs) else kwargs]
