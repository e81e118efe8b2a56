"""Checking a record before anything acts on it: its chain, its signature, its JSON Schema and
its schema name and version. The one check the correlator, the console and the audit share.

A record is accepted only when its chain link holds (`streams.link_check`, the check the audit
makes too: the headers agree with the record, and the link hash over the record as Kafka keeps
it is signed by a key the site trusts for a role allowed to write the topic), and its
body is the topic's message type: the schema header and the body's schema name and version
are that type's, and the body is valid against `streams/schemas/<name>.v<version>.json`.
Anyone on the network can write a topic; only the roles' keys make a record count.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from kafka.consumer.fetcher import ConsumerRecord
from pydantic import ValidationError

from config.signing import Signing
from streams.chain import LINK_HEADERS, PlacedRecord
from streams.link_check import CheckedLink, UnreadableLink, check_links
from streams.messages import SCHEMA_HEADER, M, Message
from streams.signing import KeyRing
from streams.topics import Topic

SCHEMAS = Path(__file__).resolve().parent / "schemas"
CHECKED_HEADERS = (*sorted(LINK_HEADERS), SCHEMA_HEADER)


class RecordRejected(ValueError):
    """A record that failed its check; `reason` says which part and why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@cache
def body_validator(message_type: type[Message]) -> Validator:
    """The message type's JSON Schema, compiled once per process."""
    path = SCHEMAS / f"{message_type.SCHEMA_NAME}.v{message_type.SCHEMA_VERSION}.json"
    schema = json.loads(path.read_text())
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


@cache
def fast_body_validator(message_type: type[Message]) -> jsonschema_rs.Validator:
    """The same schema compiled by jsonschema-rs, which tells a valid body from an invalid one
    tens of times faster; what is wrong with an invalid one `body_validator` says. Formats
    are annotations only, as for `body_validator` (pydantic parses the datetimes)."""
    path = SCHEMAS / f"{message_type.SCHEMA_NAME}.v{message_type.SCHEMA_VERSION}.json"
    return jsonschema_rs.validator_for(json.loads(path.read_text()), validate_formats=False)


class RecordCheck:
    """Accepts a record as its topic's message, or raises RecordRejected.

    >>> check = RecordCheck.for_site(site.signing)                          # doctest: +SKIP
    >>> check.message(ALERTS, record)
    Alert(...)
    """

    def __init__(self, keys: KeyRing) -> None:
        self.keys = keys

    @classmethod
    def for_site(cls, signing: Signing) -> RecordCheck:
        return cls(KeyRing.from_config(signing))

    def message(self, topic: Topic[M], record: ConsumerRecord) -> M:
        return self.placed_message(topic, PlacedRecord.of(record))

    def messages(
        self, topic: Topic[M], records: Sequence[ConsumerRecord]
    ) -> list[M | RecordRejected]:
        """`message` of each record, in order, or the RecordRejected it raises: the same
        check, with the signatures of the batch verified together."""
        return self.placed_messages(topic, [PlacedRecord.of(record) for record in records])

    def placed_message(self, topic: Topic[M], record: PlacedRecord) -> M:
        """`message` of a record as placed (what an audit reads back from its log)."""
        checked = self.placed_messages(topic, [record])[0]
        if isinstance(checked, RecordRejected):
            raise checked
        return checked

    def placed_messages(
        self, topic: Topic[M], records: Sequence[PlacedRecord]
    ) -> list[M | RecordRejected]:
        """`messages` of records as placed."""
        checked: list[Any] = [_no_header_twice(record) for record in records]
        chained = [record for record, check in zip(records, checked, strict=True) if check is None]
        links = iter(check_links(chained, self.keys, topic.writers))
        for index, record in enumerate(records):
            if checked[index] is not None:
                continue
            try:
                _link_holds(next(links))
                checked[index] = self.verify_body(topic, record, dict(record.headers))
            except RecordRejected as rejected:
                checked[index] = rejected
        return checked

    def verify_body(self, topic: Topic[M], record: PlacedRecord, headers: dict[str, bytes]) -> M:
        """The body is the topic's message type, by header, by JSON Schema and by model."""
        expected = f"{topic.message_type.SCHEMA_NAME}/{topic.message_type.SCHEMA_VERSION}"
        header = headers.get(SCHEMA_HEADER, b"").decode(errors="replace")
        if header != expected:
            raise RecordRejected(f"schema header {header or '(none)'!r}, expected {expected!r}")
        try:
            body = json.loads(record.value)
        except (TypeError, ValueError) as error:
            raise RecordRejected(f"body is not JSON: {error}") from None
        valid = fast_body_validator(topic.message_type).is_valid(body)
        error = None if valid else best_match(body_validator(topic.message_type).iter_errors(body))
        if error is not None:
            raise RecordRejected(f"body fails {expected} at {error.json_path}: {error.message}")
        stated = f"{body.get('schema_name')}/{body.get('schema_version')}"
        if stated != expected:
            raise RecordRejected(f"body says schema {stated!r}, expected {expected!r}")
        try:
            # The body is parsed once: the model takes what the schema check already read.
            return topic.message_type.model_validate(body)
        except ValidationError as invalid:
            raise RecordRejected(f"not a {expected}: {invalid.errors()[0]['msg']}") from None


def _no_header_twice(record: PlacedRecord) -> RecordRejected | None:
    names = Counter(name for name, _ in record.headers)
    twice = sorted(name for name in CHECKED_HEADERS if names[name] > 1)
    return RecordRejected(f"header {', '.join(twice)} appears more than once") if twice else None


def _link_holds(checked: CheckedLink | UnreadableLink) -> None:
    """RecordRejected, saying why, unless the record's chain link holds."""
    if isinstance(checked, UnreadableLink):
        reason = checked.detail
        if checked.kind == "malformed chain headers":
            reason = f"malformed chain headers: {reason}"
        raise RecordRejected(reason)
    if checked.problems:
        raise RecordRejected(checked.problems[0].reason)
