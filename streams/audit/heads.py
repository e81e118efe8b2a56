"""Chain heads against the partitions: what was cut off the end of a chain, or deleted whole.

The newest trusted head of each chain (`streams.chain_heads`) names its last acknowledged
sequence number and link hash; the partition must hold the chain up to there. Heads are taken
only from head records whose own link holds (signed, when keys are given, by a role that may
write every topic the head names); the others are findings of the chain check already.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from streams.audit.records import LoggedRecord, RecordedLog
from streams.audit.verdict import Finding
from streams.chain_heads import ChainState
from streams.link_check import UnreadableLink, check_link
from streams.signing import KeyRing
from streams.topics import CHAIN_HEADS, TOPIC_NAMED

Place = tuple[str, int, str]  # (full topic name, partition, producer id)


@dataclass
class _Held:
    """What a partition holds of one producer's chain: link hash and offset by sequence."""

    topic: str  # without the site's prefix
    links: dict[int, tuple[str, int]]


def check_heads(log: RecordedLog, keys: KeyRing | None) -> list[Finding]:
    """A finding for every chain that ends before its newest head says, or is not there."""
    findings: list[Finding] = []
    newest: dict[Place, tuple[ChainState, LoggedRecord]] = {}
    for record in log.topic(CHAIN_HEADS):
        try:
            checked = check_link(record.placed(), keys, CHAIN_HEADS.writers)
            head = CHAIN_HEADS.decode(record.value)
        except (UnreadableLink, ValidationError):
            continue  # the chain check reports it
        if not checked.holds:
            continue
        prefix = record.kafka_topic.removesuffix(CHAIN_HEADS.name)
        role = keys.role_of(checked.link.key_id) if keys else None
        for state in head.chains:
            topic = TOPIC_NAMED.get(state.topic.removeprefix(prefix))
            if topic is None or not state.topic.startswith(prefix):
                findings.append(_at(record, "chain head for an unknown topic", state.topic))
                continue
            if role is not None and role not in topic.writers:
                findings.append(
                    _at(
                        record, "chain head from the wrong role", f"{role.value} names {topic.name}"
                    )
                )
                continue
            place = (state.topic, state.partition, state.producer_id)
            if place not in newest or state.sequence > newest[place][0].sequence:
                newest[place] = (state, record)
    held, first, end = _held(log)
    for place, (state, head_record) in sorted(newest.items()):
        findings += _compare(place, state, head_record, held.get(place), first, end)
    for place, chain in sorted(held.items()):
        if chain.topic != CHAIN_HEADS.name:
            findings += _uncovered(place, chain, newest.get(place, (None, None))[0])
    return findings


def _uncovered(place: Place, chain: _Held, state: ChainState | None) -> list[Finding]:
    """A note for a chain whose end no trusted head names (a producer that stopped without
    publishing one, or a chain no trusted key signed): a cut there would not show."""
    _, partition, producer = place
    last = max(chain.links)
    covered = -1 if state is None else state.sequence
    if last <= covered:
        return []
    offset = chain.links[last][1]
    return [
        Finding(
            "chain end without a head",
            f"{chain.topic}/{partition}@{offset}",
            f"producer {producer} {_stretch(covered + 1, last)}: no trusted chain head names "
            "it, so records cut off after it would not show",
            tampering=False,
            offset=offset,
        )
    ]


def _held(
    log: RecordedLog,
) -> tuple[dict[Place, _Held], dict[tuple[str, int], int], dict[tuple[str, int], int]]:
    """Each producer's links per partition, and each partition's first and next offset."""
    held: dict[Place, _Held] = {}
    first: dict[tuple[str, int], int] = {}
    end: dict[tuple[str, int], int] = {}
    for record in log.all_records():
        partition = (record.kafka_topic, record.partition)
        first[partition] = min(first.get(partition, record.offset), record.offset)
        end[partition] = max(end.get(partition, 0), record.offset + 1)
        try:
            checked = check_link(record.placed(), None, ())
        except UnreadableLink:
            continue
        place = (record.kafka_topic, record.partition, checked.link.producer_id)
        links = held.setdefault(place, _Held(record.topic, {})).links
        links.setdefault(checked.link.sequence, (checked.link_hash, record.offset))
    return held, first, end


def _compare(
    place: Place,
    state: ChainState,
    head_record: LoggedRecord,
    held: _Held | None,
    first: dict[tuple[str, int], int],
    end: dict[tuple[str, int], int],
) -> list[Finding]:
    topic, partition, producer = place
    name = topic.removeprefix(head_record.kafka_topic.removesuffix(CHAIN_HEADS.name))
    said = f"the chain head at {head_record.where} names seq {state.sequence}"
    retained_from = first.get((topic, partition), 0)
    if held is None:
        offset = end.get((topic, partition), 0)
        where = f"{name}/{partition}@{offset}"
        if retained_from > 0:
            return [
                Finding(
                    "chain not retained",
                    where,
                    f"producer {producer} {_stretch(0, state.sequence)}: none left on the "
                    f"partition, whose start retention deleted; {said}",
                    tampering=False,
                    offset=offset,
                )
            ]
        return [
            Finding(
                "deleted producer chain",
                where,
                f"producer {producer} {_stretch(0, state.sequence)} missing: none of its "
                f"{state.count} acknowledged records on the partition; {said}",
                offset=offset,
            )
        ]
    last = max(held.links)
    if last < state.sequence:
        offset = held.links[last][1] + 1
        return [
            Finding(
                "truncated chain",
                f"{name}/{partition}@{offset}",
                f"producer {producer} {_stretch(last + 1, state.sequence)} missing after seq "
                f"{last} at offset {offset - 1}; {said}",
                offset=offset,
            )
        ]
    link_hash, offset = held.links.get(state.sequence, (state.link_hash, -1))
    if link_hash != state.link_hash:
        return [
            Finding(
                "chain head mismatch",
                f"{name}/{partition}@{offset}",
                f"producer {producer} seq {state.sequence} is not the record {said}",
                offset=offset,
            )
        ]
    return []


def _stretch(first: int, last: int) -> str:
    return f"seq {first}" if first == last else f"seq {first}..{last}"


def _at(record: LoggedRecord, kind: str, detail: str) -> Finding:
    return Finding(kind, record.where, detail, offset=record.offset)
