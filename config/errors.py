"""Turn pydantic validation errors into sentences an engineer editing YAML can act on."""

from __future__ import annotations

import difflib
import types
from collections.abc import Callable
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from config.base import IDENTIFIER_PATTERN

# Collections whose items have a more telling name than "items".
_ITEM_NOUNS = {"polygon": "points", "cameras": "cameras", "days": "days"}


def describe_error(error: ErrorDetails, root: type[BaseModel]) -> str:
    """One readable message for one pydantic error of a config validated as `root`."""
    kind = error["type"]
    location = tuple(error["loc"])
    describe = _DESCRIBERS.get(kind)
    if describe is not None:
        return describe(error, root, location)
    return _pydantic_message(error)


def _missing(error: ErrorDetails, root: type[BaseModel], location: tuple) -> str:
    owner = _model_at(root, location[:-1])
    field = owner.model_fields.get(str(location[-1])) if owner else None
    hint = f" ({field.description})" if field is not None and field.description else ""
    return f"required field is missing{hint}"


def _extra(error: ErrorDetails, root: type[BaseModel], location: tuple) -> str:
    key = str(location[-1])
    owner = _model_at(root, location[:-1])
    if owner is None:
        return f"unknown key {key!r}"
    allowed = list(owner.model_fields)
    close = difflib.get_close_matches(key, allowed, n=1)
    if close:
        return f"unknown key {key!r}; did you mean {close[0]!r}?"
    return f"unknown key {key!r}; allowed keys are {', '.join(allowed)}"


def _length(error: ErrorDetails, root: type[BaseModel], location: tuple) -> str:
    ctx = error.get("ctx", {})
    actual = ctx.get("actual_length")
    if ctx.get("field_type") == "Tuple":
        return f"a point is [x, y]: needs 2 numbers, got {actual}"
    noun = _ITEM_NOUNS.get(str(location[-1]) if location else "", "entries")
    if error["type"] == "too_short":
        minimum = ctx.get("min_length")
        if minimum == 1:  # "at least 1 camera", not "1 cameras"
            noun = "entry" if noun == "entries" else noun.removesuffix("s")
        return f"needs at least {minimum} {noun}, got {actual}"
    return f"allows at most {ctx.get('max_length')} {noun}, got {actual}"


def _bound(words: str, ctx_key: str) -> Callable[[ErrorDetails, type[BaseModel], tuple], str]:
    def describe(error: ErrorDetails, root: type[BaseModel], location: tuple) -> str:
        limit = error.get("ctx", {}).get(ctx_key)
        return f"must be {words} {_shown(limit)}, got {_shown(error['input'])}"

    return describe


def _expected(what: str) -> Callable[[ErrorDetails, type[BaseModel], tuple], str]:
    def describe(error: ErrorDetails, root: type[BaseModel], location: tuple) -> str:
        return f"expected {what}, got {_shown(error['input'])}"

    return describe


def _choice(error: ErrorDetails, root: type[BaseModel], location: tuple) -> str:
    expected = error.get("ctx", {}).get("expected", "")
    return f"must be one of {expected}, got {_shown(error['input'])}"


def _pattern(error: ErrorDetails, root: type[BaseModel], location: tuple) -> str:
    pattern = error.get("ctx", {}).get("pattern")
    if pattern == IDENTIFIER_PATTERN:
        return (
            f"{_shown(error['input'])} is not a valid id: use letters, digits, _ . - "
            "(at most 63, starting with a letter or digit)"
        )
    return f"{_shown(error['input'])} does not match the pattern {pattern}"


def _value_error(error: ErrorDetails, root: type[BaseModel], location: tuple) -> str:
    # Our own validators already word their message; drop pydantic's prefix.
    return error["msg"].removeprefix("Value error, ")


def _time(error: ErrorDetails, root: type[BaseModel], location: tuple) -> str:
    return f"expected a time of day HH:MM from 00:00 to 23:59, got {_shown(error['input'])}"


def _pydantic_message(error: ErrorDetails) -> str:
    return f"{error['msg'][0].lower()}{error['msg'][1:]}" if error["msg"] else error["type"]


_DESCRIBERS: dict[str, Callable[[ErrorDetails, type[BaseModel], tuple], str]] = {
    "missing": _missing,
    "extra_forbidden": _extra,
    "too_short": _length,
    "too_long": _length,
    "greater_than": _bound("greater than", "gt"),
    "greater_than_equal": _bound("at least", "ge"),
    "less_than": _bound("less than", "lt"),
    "less_than_equal": _bound("at most", "le"),
    "multiple_of": _bound("a multiple of", "multiple_of"),
    "string_too_short": _expected("a non-empty text"),
    "string_too_long": _bound("at most this many characters:", "max_length"),
    "string_pattern_mismatch": _pattern,
    "string_type": _expected("text"),
    "int_type": _expected("a whole number"),
    "int_parsing": _expected("a whole number"),
    "int_from_float": _expected("a whole number"),
    "float_type": _expected("a number"),
    "float_parsing": _expected("a number"),
    "bool_type": _expected("true or false"),
    "bool_parsing": _expected("true or false"),
    "list_type": _expected("a list"),
    "tuple_type": _expected("a list [x, y]"),
    "dict_type": _expected("a mapping of keys to values"),
    "model_type": _expected("a mapping of keys to values"),
    "model_attributes_type": _expected("a mapping of keys to values"),
    "time_type": _time,
    "time_parsing": _time,
    "datetime_type": _expected("a date and time like 2026-03-14T02:00:00+01:00"),
    "datetime_parsing": _expected("a date and time like 2026-03-14T02:00:00+01:00"),
    "datetime_from_date_parsing": _expected("a date and time like 2026-03-14T02:00:00+01:00"),
    "enum": _choice,
    "literal_error": _choice,
    "value_error": _value_error,
}


def _shown(value: object) -> str:
    """A value as the YAML author wrote it, not as Python prints it."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # bounds are floats in the schema: "0", not "0.0"
    return str(value)


def _model_at(root: type[BaseModel], location: tuple) -> type[BaseModel] | None:
    """The config model found at `location` (field names and list indexes) below `root`."""
    annotation: Any = root
    for step in location:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(step))
            if field is None:
                return None
            annotation = field.annotation
        elif get_origin(annotation) in (list, dict):
            annotation = get_args(annotation)[-1]
        else:
            return None
    annotation = _unwrap(annotation)
    return (
        annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    )


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated[...] and `| None` down to the type that holds the value."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [arg for arg in get_args(annotation) if arg is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation
