"""ISO 6346 container numbers: normalised and checked by check digit before anything trusts them."""

from __future__ import annotations

import re

from stdnum import iso6346
from stdnum.exceptions import ValidationError

# The library's own format check admits any word character in the owner code (digits, "_",
# non-Latin letters); ISO 6346 owner codes are three Latin capitals.
CONTAINER_NUMBER = re.compile(r"^[A-Z]{3}[UJZR][0-9]{7}$")


def checked_container_number(text: object) -> str:
    """The container number in compact upper-case form, or ValueError saying what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"container number missing, got {text!r}")
    compact = iso6346.compact(text)
    if not CONTAINER_NUMBER.match(compact):
        raise ValueError(
            f"container number {text!r} is not ISO 6346: needs owner code, category U/J/Z/R, "
            "6 digits and a check digit, e.g. CSQU3054383"
        )
    try:
        return iso6346.validate(compact)
    except ValidationError:
        right = iso6346.calc_check_digit(compact[:10])
        raise ValueError(
            f"container number {text!r} fails the ISO 6346 check digit (it should end in {right})"
        ) from None
