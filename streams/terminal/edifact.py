"""An EDIFACT interchange cut into its segments as raw text, grouped into UNH..UNT messages,
so each message is parsed by pydifact on its own and one broken message costs only itself.

The service string advice (UNA) is honoured: its separators cut the segments and pydifact
reads each with them. A UNA whose separators clash, or that uses a letter or digit as one,
is refused by name.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from pydifact.control import Characters
from pydifact.exceptions import MissingImplementationWarning
from pydifact.parser import Parser
from pydifact.segmentcollection import Interchange
from pydifact.segments import Segment

from streams.terminal.events import FeedError

UNA_LENGTH = 9  # "UNA" and six service characters


class EdifactError(FeedError):
    """Text that is not EDIFACT with these separators; `location` says which segment."""

    def __init__(self, reason: str, location: str = ""):
        super().__init__(reason)
        self.location = location


@dataclass
class RawMessage:
    """One message as the interchange carried it: UNH first, UNT last unless it was cut short."""

    number: int  # its place in the interchange, from 1
    segments: list[str] = field(default_factory=list)
    cut_short: str = ""  # why the message has no UNT, when it has none


@dataclass(frozen=True)
class RawInterchange:
    characters: Characters
    header: str  # the UNB segment's text
    messages: list[RawMessage]


def split_interchange(text: str) -> RawInterchange:
    """The UNB header and the messages of `text`; EdifactError when no header can be found."""
    text = text.lstrip("\ufeff \r\n\t")
    characters, body = _service_characters(text)
    segments, rest = _segments(body, characters)
    if rest:
        segments.append(rest)
    tags = [_tag(segment, characters) for segment in segments]
    if not segments:
        raise EdifactError("no EDIFACT segment in the input")
    if tags[0] != "UNB":
        reason = f"an interchange starts with UNB (after an optional UNA), not {tags[0][:20]!r}"
        raise EdifactError(reason, "segment 1")
    messages: list[RawMessage] = []
    current: RawMessage | None = None
    for segment, tag in zip(segments[1:], tags[1:], strict=True):
        if tag == "UNH":
            if current is not None:
                current.cut_short = (
                    f"cut short after segment {len(current.segments)}: "
                    "the next UNH comes before this message's UNT"
                )
                messages.append(current)
            current = RawMessage(len(messages) + 1, [segment])
        elif current is not None:
            current.segments.append(segment)
            if tag == "UNT":
                messages.append(current)
                current = None
    if current is not None:
        last = current.segments[-1]
        current.cut_short = (
            f"cut short inside segment {len(current.segments)} ({last[:40]!r} has no "
            "segment terminator)"
            if rest and last == rest
            else "cut short: the interchange ends before its UNT"
        )
        messages.append(current)
    return RawInterchange(characters, segments[0], messages)


def read_header(interchange: RawInterchange) -> Interchange:
    """The interchange's UNB read by pydifact: sender, control reference, preparation time."""
    [unb] = parse_segments([interchange.header], interchange.characters)
    try:
        with _quiet_pydifact():
            return Interchange.from_segments([unb], interchange.characters)
    except Exception as error:  # EDISyntaxError, or ValueError from a date that does not exist
        raise EdifactError(f"UNB: {type(error).__name__}: {error}", "UNB") from None


def parse_segments(texts: list[str], characters: Characters, first: int = 1) -> list[Segment]:
    """Each raw segment parsed by pydifact; EdifactError names the first one it cannot read,
    counting the segments from `first`."""
    parsed: list[Segment] = []
    parser = Parser(characters=characters)
    with _quiet_pydifact():
        for number, text in enumerate(texts, start=first):
            try:
                segments = list(parser.parse(text, characters))
            except Exception as error:  # pydifact raises IndexError, AssertionError... on syntax
                reason = f"segment {number} unreadable: {type(error).__name__}: {error}"
                raise EdifactError(reason, f"segment {number}") from None
            if len(segments) != 1:
                raise EdifactError(f"segment {number} unreadable", f"segment {number}")
            parsed.append(segments[0])
    return parsed


@contextmanager
def _quiet_pydifact() -> Iterator[None]:
    with warnings.catch_warnings():
        # pydifact warns for each service segment it has no directory for; that is fine.
        warnings.simplefilter("ignore", MissingImplementationWarning)
        # Empty segments are its other warning; what matters about them becomes a reject.
        warnings.simplefilter("ignore", SyntaxWarning)
        yield


def _service_characters(text: str) -> tuple[Characters, str]:
    if not text.startswith("UNA"):
        return Characters(), text
    if len(text) < UNA_LENGTH:
        raise EdifactError("the UNA service string advice needs six characters", "UNA")
    characters = Characters.from_str(text[:UNA_LENGTH])
    roles = {
        "component separator": characters.component_separator,
        "data element separator": characters.data_separator,
        "release character": characters.escape_character,
        "segment terminator": characters.segment_terminator,
    }
    seen: dict[str, str] = {}
    for role, char in roles.items():
        if char.isalnum():
            raise EdifactError(f"UNA declares {char!r} as the {role}: a letter or digit", "UNA")
        if char in seen:
            reason = f"UNA declares {char!r} as both the {seen[char]} and the {role}"
            raise EdifactError(reason, "UNA")
        seen[char] = role
    return characters, text[UNA_LENGTH:].lstrip("\r\n")


def _segments(body: str, characters: Characters) -> tuple[list[str], str]:
    """The segments of `body`, each with its terminator, and any text left without one."""
    release = re.escape(characters.escape_character)
    terminator = re.escape(characters.segment_terminator)
    segment = re.compile(rf"(?:[^{release}{terminator}]|{release}.)*{terminator}", re.DOTALL)
    line_ends = re.compile(r"[ \r\n]*")  # pydifact skips these after a terminator too
    segments: list[str] = []
    position = line_ends.match(body).end()
    while match := segment.match(body, position):
        segments.append(match.group())
        position = line_ends.match(body, match.end()).end()
    return segments, body[position:].strip()


def _tag(segment: str, characters: Characters) -> str:
    separators = {characters.data_separator, characters.segment_terminator}
    end = next((i for i, char in enumerate(segment) if char in separators), len(segment))
    return segment[:end].strip()
