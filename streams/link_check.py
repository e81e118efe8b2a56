"""The one check of a record's chain link, which every live consumer (`streams.record_check`)
and the audit (`streams.audit.verify`) make: the chain headers are there and well-formed,
agree with the record (body, partition, timestamp), and the link hash over the record as
Kafka keeps it (`streams.chain.link_bytes`) is signed by a trusted key of a role allowed to
write the topic. Whether the chain is whole (no link missing before a record) is the audit's
business: it sees the whole partition, a consumer sees what it polls. A consumer does use the
links it sees follow each other: the last signature of a run signs for the whole run."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from config.signing import WriterRole
from streams.chain import LINK_HEADERS, ChainLink, PlacedRecord, body_sha256
from streams.signing import KeyRing


@dataclass(frozen=True)
class LinkProblem:
    """One way a record disagrees with its chain link: a finding's kind and what it says."""

    kind: str
    detail: str

    @property
    def reason(self) -> str:
        """The problem in one line, as a consumer's dead letter gives it."""
        subject = "signature" if self.kind.startswith("signature") else self.kind
        return f"{subject}: {self.detail}"


class UnreadableLink(ValueError):
    """A record with no chain link, or one that cannot be read: nothing else can be checked."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True)
class CheckedLink:
    """A record's link, its link hash, and everything wrong with it (nothing: it holds)."""

    link: ChainLink
    link_hash: str
    problems: tuple[LinkProblem, ...]

    @property
    def holds(self) -> bool:
        return not self.problems


def read_link(record: PlacedRecord) -> ChainLink:
    """The chain link a record's headers carry; UnreadableLink when there is none to check."""
    names = Counter(name for name, _ in record.headers)
    twice = sorted(name for name in LINK_HEADERS if names[name] > 1)
    if twice:
        raise UnreadableLink("duplicated chain headers", f"{', '.join(twice)} more than once")
    try:
        link = ChainLink.from_headers(dict(record.headers))
    except (ValueError, UnicodeDecodeError) as error:
        raise UnreadableLink("malformed chain headers", str(error)) from None
    if link is None:
        raise UnreadableLink(
            "unchained record", "no chain headers: not written by a quaywatch producer"
        )
    return link


def check_link(
    record: PlacedRecord, keys: KeyRing | None, writers: Iterable[WriterRole]
) -> CheckedLink:
    """Everything one record's link says about it; without `keys`, signatures go unchecked.

    UnreadableLink when the record carries no readable link at all.
    """
    checked = check_links([record], keys, writers)[0]
    if isinstance(checked, UnreadableLink):
        raise checked
    return checked


def check_links(
    records: Sequence[PlacedRecord], keys: KeyRing | None, writers: Iterable[WriterRole]
) -> list[CheckedLink | UnreadableLink]:
    """`check_link` of each record, in order (the UnreadableLink where it raises one): the
    batch's signatures are verified together (`KeyRing.signature_problems`).

    The link hash of a record covers the link hash of the one before it in its chain, so a
    record followed in the batch by the next link of its chain, naming its link hash, is
    signed for by that link's signature too: of each such run of links only the last
    signature is verified (the others must still be there, under a trusted key of a writer).
    Where that one fails, every link of the run is verified on its own, so each finding
    names its own record.
    """
    roles = frozenset(writers)
    found: list[tuple[ChainLink, str, list[LinkProblem]] | UnreadableLink] = []
    places: list[PlacedRecord] = []  # the records with a readable link, in order
    for record in records:
        try:
            link = read_link(record)
        except UnreadableLink as unreadable:
            found.append(unreadable)
            continue
        body_hash = body_sha256(record.value)
        found.append(
            (link, link.link_hash(record, body_hash), _disagreements(record, link, body_hash))
        )
        places.append(record)
    links = [each for each in found if not isinstance(each, UnreadableLink)]
    signed = [(link.key_id, link.signature, link_hash.encode()) for link, link_hash, _ in links]
    if keys is None:
        signature_problems: list[str | None] = [None] * len(signed)
    else:
        successor = _successors(links, places)
        attested = [index in successor for index in range(len(links))]
        signature_problems = keys.signature_problems(signed, roles, attested)
        # A run whose last signature failed: its other links are verified on their own.
        last_of_run: dict[int, int] = {}
        for index in sorted(successor, reverse=True):  # a successor comes later
            last_of_run[index] = last_of_run.get(successor[index], successor[index])
        unsure = [index for index, last in last_of_run.items() if signature_problems[last]]
        again = keys.signature_problems([signed[index] for index in unsure], roles)
        for index, problem in zip(unsure, again, strict=True):
            signature_problems[index] = problem
    for (link, _, problems), problem in zip(links, signature_problems, strict=True):
        if problem is not None:
            kind = "signature missing" if link.signature is None else "signature invalid"
            problems.append(LinkProblem(kind, problem))
    return [
        each if isinstance(each, UnreadableLink) else CheckedLink(each[0], each[1], tuple(each[2]))
        for each in found
    ]


def _successors(
    links: Sequence[tuple[ChainLink, str, list[LinkProblem]]], places: Sequence[PlacedRecord]
) -> dict[int, int]:
    """For each link followed later in the batch by the next link of its chain (which names
    its link hash as the previous one), that link's index; links that disagree with their
    record are in no run."""
    successor: dict[int, int] = {}
    last: dict[tuple[str, str, int], int] = {}  # chain -> index of its latest link so far
    for index, ((link, _, problems), place) in enumerate(zip(links, places, strict=True)):
        chain = (link.producer_id, place.topic, place.partition)
        before = last.get(chain)
        if problems:
            last.pop(chain, None)
            continue
        if before is not None:
            previous, previous_hash, _ = links[before]
            if link.sequence == previous.sequence + 1 and link.previous == previous_hash:
                successor[before] = index
        last[chain] = index
    return successor


def _disagreements(record: PlacedRecord, link: ChainLink, body_hash: str) -> list[LinkProblem]:
    """Where the record disagrees with what its link was made for (the signature aside)."""
    problems = []
    if body_hash != link.body_sha256:
        problems.append(
            LinkProblem("body hash mismatch", "the body is not the one that was signed")
        )
    if link.partition != record.partition:
        problems.append(
            LinkProblem(
                "wrong partition", f"chained for partition {link.partition}, found elsewhere"
            )
        )
    if link.timestamp_ms != record.timestamp_ms:
        problems.append(
            LinkProblem(
                "timestamp changed",
                f"chained with timestamp {link.timestamp_ms}, the record has {record.timestamp_ms}"
                " (a broker stamping its own times needs message.timestamp.type=CreateTime)",
            )
        )
    return problems
