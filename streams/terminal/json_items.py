"""JSON read with bounds: the top-level items of an array found without parsing them, each
parsed only when its size and nesting depth are within limits, so one hostile item cannot
take its neighbours down with it (Python's json recurses, and a deep item raises
RecursionError; a huge one holds the whole batch in memory twice).

The scan is a flat loop over JSON's structural characters, with strings skipped whole; it
keeps a stack of open brackets, never a call per level.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

MAX_DEPTH = 64  # a DCSA event nests about 5 deep; 64 leaves room and stays far below recursion
MAX_ITEM_CHARS = 1_000_000

# A whole string (escapes included), a lone quote (an unterminated string), or a bracket or comma.
_STRUCTURE = re.compile(r'"(?:[^"\\]|\\.)*"|"|[\[\]{},]', re.DOTALL)
_CLOSER = {"]": "[", "}": "{"}


class JsonLimitError(ValueError):
    """An item not read at all, too deep or too large; the text says which and by how much."""


@dataclass(frozen=True)
class JsonItem:
    """One top-level item of an array, as it stands in the input."""

    index: int
    raw: str
    depth: int  # deepest nesting of brackets inside the item; a plain object is 1


@dataclass(frozen=True)
class JsonArray:
    """The items of a JSON array and whether the array was closed (an open one was cut short)."""

    items: list[JsonItem]
    closed: bool
    trailing: str  # text after the closing bracket, which belongs to no item


def split_array(text: str) -> JsonArray:
    """The items of the JSON array `text` (which starts with '['), found without parsing them."""
    start = text.index("[")
    stack: list[str] = ["["]
    items: list[JsonItem] = []
    item_start, depth = start + 1, 0
    for match in _STRUCTURE.finditer(text, start + 1):
        token = match.group()
        if token[0] == '"':
            if token == '"':  # an unterminated string: the rest is one broken item
                break
            continue
        if token in "[{":
            stack.append(token)
            depth = max(depth, len(stack) - 1)
        elif len(stack) == 1 and token == ",":
            items.append(JsonItem(len(items), text[item_start : match.start()], depth))
            item_start, depth = match.end(), 0
        elif len(stack) == 1 and token == "]":
            _append_last(items, text[item_start : match.start()], depth)
            return JsonArray(items, closed=True, trailing=text[match.end() :].strip())
        elif len(stack) > 1 and token in _CLOSER and _CLOSER[token] in stack[1:]:
            # A mismatched closer closes up to its own opener, as a lenient reader would; the
            # item stays broken for json.loads to reject, and its neighbours keep their bounds.
            while stack.pop() != _CLOSER[token]:
                pass
    _append_last(items, text[item_start:], depth)
    return JsonArray(items, closed=False, trailing="")


def _append_last(items: list[JsonItem], raw: str, depth: int) -> None:
    if raw.strip() or items:  # "[]" has no items; "[1,]" has an empty last one
        items.append(JsonItem(len(items), raw, depth))


def nesting_depth(text: str) -> int:
    """The deepest bracket nesting in `text`, strings skipped, without parsing it."""
    depth = deepest = 0
    for match in _STRUCTURE.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif token in "]}":
            depth = max(depth - 1, 0)
    return deepest


def loads_bounded(text: str, depth: int | None = None) -> object:
    """json.loads of `text` once its size and depth are within the limits.

    Raises JsonLimitError for an item over a limit and ValueError for one that is not JSON.
    """
    if len(text) > MAX_ITEM_CHARS:
        raise JsonLimitError(f"{len(text)} characters; at most {MAX_ITEM_CHARS} are read")
    depth = nesting_depth(text) if depth is None else depth
    if depth > MAX_DEPTH:
        raise JsonLimitError(f"nests {depth} levels deep; at most {MAX_DEPTH} are read")
    try:
        return json.loads(text)
    except RecursionError:  # only reachable when the interpreter's stack is far smaller
        raise JsonLimitError(f"nests too deep to read ({depth} levels)") from None
