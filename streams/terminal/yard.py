"""Yard positions, as feeds write them, to the yard blocks the site config joins with zones."""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatchcase

from config.terminal import YardArea


def yard_block_of(yard_position: str | None, yard_areas: Sequence[YardArea]) -> str | None:
    """The yard block of the first area whose pattern matches, or None when no area does."""
    if not yard_position:
        return None
    position = yard_position.strip().upper()
    for area in yard_areas:
        if fnmatchcase(position, area.pattern.upper()):
            return area.yard_block
    return None
