"""Pairs of records that may be one child but are not identity's own `DuplicatePair` (whose two
records are in this database), shown in identity's review queue beside them: a higher layer that
holds such pairs registers a source here (identity imports no higher layer). Federation
registers the pairs across provinces found by the national hub (xueji.federation.duplicates),
decided on federation's own page, which each row links to.

A source answers, for a user: how many of its pairs in the user's area wait for a decision, and
the rows
to show (the record here, the other record as the source describes it, the score, the state and
the address where the pair is decided). A source shows a user only the pairs of the records in
the user's area, as identity's own pairs are shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class OtherPair:
    """One pair of a source, as identity's queue shows it."""

    source: str  # the source's key
    key: str  # the pair's id in its source
    record_id: Any  # the record in this database (a link to it), or None
    record_label: str  # the record here: name and masked number
    school_name: str  # the school of the record here
    other_label: str  # the other record, as the source describes it
    score: float
    state: str  # the state, as shown
    open: bool  # waits for a decision
    url: str  # where the pair is looked at and decided


class PairSource(Protocol):
    key: str

    def active(self) -> bool:
        """Whether the source has pairs in this deployment (its rows are shown at all)."""

    @property
    def label(self) -> Any:
        """The heading of the source's rows on the page."""

    def count(self, user: Any) -> int:
        """How many of the source's pairs in the user's area wait for a decision."""

    def rows(self, user: Any, *, open_only: bool, limit: int) -> list[OtherPair]:
        """The user's pairs (open ones only, or all), best first, at most `limit`."""

    def list_url(self) -> str:
        """The source's own page of all its pairs."""


_SOURCES: dict[str, PairSource] = {}


def register_pair_source(source: PairSource) -> None:
    """Called by a higher layer at start-up (its AppConfig.ready)."""
    _SOURCES[source.key] = source


def pair_sources() -> list[PairSource]:
    """The sources active in this deployment."""
    return [source for source in _SOURCES.values() if source.active()]


def other_pairs(user: Any, *, open_only: bool, limit: int = 50) -> list[OtherPair]:
    """Every source's rows for the user."""
    found: list[OtherPair] = []
    for source in pair_sources():
        found += source.rows(user, open_only=open_only, limit=limit)
    return found


def other_pairs_waiting(user: Any) -> int:
    return sum(source.count(user) for source in pair_sources())
