"""A handler's imports without the garbage collector: less cold start, cheaper collections after.

Importing a handler creates 50,000-70,000 objects, nearly all of which live as long as the
process (modules, classes, pydantic schemas, Powertools' resolver and routes). While they are
created CPython's cyclic collector runs 120-180 times (at most one of them a full collection)
and frees under 2,100 objects (2-3 %): 18-37 ms of a handler's import here (measured with gc
callbacks). `frozen_imports` turns the collector off for the import and then freezes
what the import made (`gc.freeze()`: the permanent generation, as the gc docs recommend before
forking), so later collections, during invocations, skip those objects too instead of paying
for them on the first request. The price: the import's ~2,000 cyclic garbage objects are
never freed (the api's RSS after import: ~63 MB).

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
