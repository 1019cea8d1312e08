"""A handler's imports without the garbage collector: less cold start, cheaper collections after.

Importing a handler creates ~60,000 objects that live as long as the process (modules, classes,
pydantic schemas, Powertools' resolver and routes). While they are created CPython's cyclic
collector runs well over a hundred times, several times over all of them, and finds nothing to
free: ~35-40 ms of a handler's import here (bench/bench_coldstart.py). `frozen_imports` turns
the collector off for the import and then freezes what the import made (`gc.freeze()`: the
permanent generation, as the gc docs recommend before forking), so later collections, during
invocations, skip those objects too instead of paying for them on the first request.

    with frozen_imports():
        from herald.api.app import resolve
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def frozen_imports() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
        gc.freeze()  # only after a complete import: what it made stays for the process's life
    finally:
        if was_enabled:
            gc.enable()
