"""Python's cyclic garbage collector, kept out of the way of long reads.

The correlator's start-up read and an audit's read and replay take in weeks of records and
make (almost) no reference cycles; the collector would walk the growing container table or
log over and over, a third of the time such a read takes."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """No collection while the block runs; what it built is then frozen (`gc.freeze`): it is
    taken to live on, and the first collections after the pause would otherwise walk all of
    it (an audit replay spent a sixth of its correlating in them). Frozen garbage is still
    freed by reference counting; only its reference cycles wait for the process to end."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


# Collect the youngest objects every 50,000 allocations instead of 700, and look at
# everything far more rarely: with the defaults (700, 10, 10) the collector walks the
# correlator's hours of episodes and recent alerts thousands of times a minute, an eighth of
# its loop. Short-lived cycles (an exception's traceback) are still collected young.
LONG_RUNNING_THRESHOLDS = (50_000, 50, 100)


def settle_after_start_up() -> None:
    """What the start-up read built lives as long as the process: moved out of the
    collector's way, which from now on collects for a long-running loop."""
    gc.freeze()
    gc.set_threshold(*LONG_RUNNING_THRESHOLDS)
