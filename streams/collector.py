"""Python's cyclic garbage collector, kept out of the way of long reads.

The correlator's start-up read and an audit replay take in weeks of records and make
(almost) no reference cycles; the collector would walk the growing container table over and
over, a third of the time such a read takes."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
