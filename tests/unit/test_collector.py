"""The collector pause around long reads: nothing is collected during it, and what it built
is out of the collector's sight afterwards, so the next collections do not walk it all."""

from __future__ import annotations

import gc

from streams.collector import collector_paused


class Kept:
    """A record read and kept, as a log or a container table keeps thousands."""


def test_what_a_paused_read_built_is_not_walked_by_later_collections() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        kept = [Kept() for _ in range(1000)]
    assert gc.isenabled()
    made_after = Kept()
    gc.collect()
    walked = {id(o) for o in gc.get_objects() if isinstance(o, Kept)}
    assert id(made_after) in walked
    assert not walked & {id(record) for record in kept}
    assert all(isinstance(record, Kept) for record in kept)  # still there, only unwalked


def test_a_pause_inside_a_disabled_collector_leaves_it_disabled() -> None:
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
