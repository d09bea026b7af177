"""Great Expectations builds each expectation's configuration once per validation, not once per read.

GX 1.x computes ``Expectation.configuration`` afresh on every access: a pydantic ``.dict()`` of the
whole expectation, value set included. Validating a suite reads it for every domain and success
keyword of every expectation, again for each metric it plans: 6,320 times for the 48 expectations
of the large company's daily suites, 1.5 ms each for an expectation with a 2,000-value set. That
was half of the suites' step (2.2-3.1 s; 1.4-1.5 s without it).

Within :func:`configurations_memoised`, on the calling thread, an expectation's configuration is
built once and each access gets its own shallow copy of it (its own ``kwargs`` and ``meta``
dicts, so a caller that changes them changes nothing for the next). Setting any attribute of the
expectation drops its memo. Outside the block GX behaves as it always did.
``tests/spm/quality/test_gx_configuration.py`` fails if a GX upgrade bypasses this.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import threading
from collections.abc import Callable, Iterator
from typing import Any

_MARKER = "_spm_memoised_configuration"
_scope = threading.local()


@contextlib.contextmanager
def configurations_memoised() -> Iterator[None]:
    """Within the block, on this thread, each expectation's configuration is built once."""
    install()
    outermost = getattr(_scope, "memo", None) is None
    if outermost:
        _scope.memo = {}
    try:
        yield
    finally:
        if outermost:
            _scope.memo = None


def install() -> bool:
    """Make ``Expectation.configuration`` use the memo of an open block (idempotent).

    Returns whether the change is in place (False if GX no longer has the property this relies
    on: validations then build configurations as GX does, slower but with the same results).
    """
    from great_expectations.expectations.expectation import Expectation

    current = Expectation.__dict__.get("configuration")
    if not isinstance(current, property) or current.fget is None:
        return False
    if getattr(current.fget, _MARKER, False):
        return True
    original: Callable[[Any], Any] = current.fget
    original_setattr: Callable[[Any, str, Any], None] = Expectation.__setattr__

    @functools.wraps(original)
    def configuration(self: Any) -> Any:
        memo: dict[int, tuple[Any, Any]] | None = getattr(_scope, "memo", None)
        if memo is None:
            return original(self)
        entry = memo.get(id(self))
        if entry is None or entry[0] is not self:
            entry = (self, original(self))  # the memo holds the expectation: its id is not reused
            memo[id(self)] = entry
        return _own_copy(entry[1])

    def __setattr__(self: Any, name: str, value: Any) -> None:
        memo = getattr(_scope, "memo", None)
        if memo:
            memo.pop(id(self), None)
        original_setattr(self, name, value)

    setattr(configuration, _MARKER, True)
    Expectation.configuration = property(configuration)  # type: ignore[method-assign,assignment]
    Expectation.__setattr__ = __setattr__  # type: ignore[method-assign,assignment]
    return True


def _own_copy(built: Any) -> Any:
    """A copy of an ``ExpectationConfiguration`` whose ``kwargs`` and ``meta`` dicts are its own."""
    fresh = copy.copy(built)
    fresh.kwargs = dict(built.kwargs)
    if isinstance(built.meta, dict):
        fresh.meta = dict(built.meta)
    return fresh
