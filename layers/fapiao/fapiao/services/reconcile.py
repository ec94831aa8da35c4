"""Reconciliation of the S3 drop pipeline: every object dropped, and what became of it.

Each object in the drop bucket should end with one terminal outcome per invoice it held
(``index`` 0, 1, …), recorded once. ``reconcile`` lists each object with its outcomes and
names the objects that break that: *missing* (no outcome at all: still running, or lost),
*doubled* (two outcomes for the same invoice of the object) and *gapped* (an invoice
index skipped: outcomes for 0 and 2, none for 1).

The objects come from a listing of the bucket (``listed_object`` turns a ListObjectsV2 or
ListObjectVersions entry into the ``DroppedObject`` the pipeline names), the outcomes
from the OutcomesTable (``outcomes_in(DynamoOutcomes(...))``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fapiao.model.pipeline import DroppedObject, Outcome, OutcomeKind
from fapiao.ports import OutcomeLog

OutcomesOf = Callable[[DroppedObject], Sequence[Outcome]]

__all__ = [
    "ObjectOutcomes",
    "OutcomesOf",
    "Report",
    "listed_object",
    "outcomes_in",
    "reconcile",
]


@dataclass(frozen=True)
class ObjectOutcomes:
    """One object and its outcomes, by invoice index."""

    object: DroppedObject
    outcomes: tuple[Outcome, ...]

    @property
    def kinds(self) -> tuple[OutcomeKind, ...]:
        return tuple(o.outcome for o in self.outcomes)

    @property
    def missing(self) -> bool:
        return not self.outcomes

    @property
    def doubled(self) -> bool:
        """Two outcomes for one invoice of the object."""
        indexes = [o.index for o in self.outcomes]
        return len(indexes) != len(set(indexes))

    @property
    def gapped(self) -> bool:
        """An invoice index without an outcome below the highest one recorded."""
        indexes = {o.index for o in self.outcomes}
        return bool(indexes) and indexes != set(range(max(indexes) + 1))

    @property
    def complete(self) -> bool:
        return not (self.missing or self.doubled or self.gapped)

    def line(self) -> str:
        """``<object_id>  0:created 1:duplicate``, or ``<object_id>  MISSING``."""
        if self.missing:
            return f"{self.object.object_id}  MISSING"
        parts = " ".join(f"{o.index}:{o.outcome.value}" for o in self.outcomes)
        flags = "".join(
            f"  {flag}" for flag, on in (("DOUBLED", self.doubled), ("GAP", self.gapped)) if on
        )
        return f"{self.object.object_id}  {parts}{flags}"


@dataclass(frozen=True)
class Report:
    """Every object with its outcomes, in the order listed, and the ones that are off."""

    objects: tuple[ObjectOutcomes, ...]

    @property
    def missing(self) -> tuple[DroppedObject, ...]:
        return tuple(o.object for o in self.objects if o.missing)

    @property
    def doubled(self) -> tuple[ObjectOutcomes, ...]:
        return tuple(o for o in self.objects if o.doubled)

    @property
    def gapped(self) -> tuple[ObjectOutcomes, ...]:
        return tuple(o for o in self.objects if o.gapped)

    @property
    def complete(self) -> bool:
        """True when every object has exactly one outcome for each of its invoices."""
        return all(o.complete for o in self.objects)

    def counts(self) -> dict[OutcomeKind, int]:
        """How many outcomes of each kind (an object of two invoices counts twice)."""
        counted = Counter(kind for o in self.objects for kind in o.kinds)
        return {kind: counted[kind] for kind in OutcomeKind if counted[kind]}

    def summary(self) -> str:
        """``3 objects: 2 created, 1 duplicate; 0 missing, 0 doubled, 0 with a gap``."""
        counted = ", ".join(f"{n} {kind.value}" for kind, n in self.counts().items())
        return (
            f"{len(self.objects)} objects: {counted or 'no outcomes'}; "
            f"{len(self.missing)} missing, {len(self.doubled)} doubled, "
            f"{len(self.gapped)} with a gap"
        )

    def problems(self) -> str:
        """One line naming each object that is off by its key, e.g.
        ``2 of 5 objects are off: missing acme/a.pdf; doubled acme/b.pdf``; "" if none."""
        named = [
            (flag, o.object.key)
            for o in self.objects
            for flag, on in (("missing", o.missing), ("doubled", o.doubled), ("gap", o.gapped))
            if on
        ]
        if not named:
            return ""
        off = sum(1 for o in self.objects if not o.complete)
        return f"{off} of {len(self.objects)} objects are off: " + "; ".join(
            f"{flag} {key}" for flag, key in named
        )

    def lines(self) -> list[str]:
        """The report as text: one line per object, then a summary line."""
        return [*(o.line() for o in self.objects), self.summary()]


def reconcile(objects: Iterable[DroppedObject], outcomes_of: OutcomesOf) -> Report:
    """Each object (listed once, however often it is given) with its outcomes, by index."""
    seen: set[str] = set()
    rows = []
    for obj in objects:
        if obj.object_id in seen:
            continue
        seen.add(obj.object_id)
        outcomes = sorted(outcomes_of(obj), key=lambda o: (o.index, o.at))
        rows.append(ObjectOutcomes(obj, tuple(outcomes)))
    return Report(tuple(rows))


def listed_object(bucket: str, entry: Mapping[str, Any]) -> DroppedObject:
    """An entry of ListObjectsV2 (``Contents``) or ListObjectVersions (``Versions``) as
    the pipeline names the object: the listing quotes the ETag, S3's event does not."""
    version = entry.get("VersionId")
    return DroppedObject(
        bucket=bucket,
        key=str(entry["Key"]),
        etag=str(entry.get("ETag") or "").strip('"'),
        version_id=None if version in (None, "null") else str(version),
    )


def outcomes_in(log: OutcomeLog) -> OutcomesOf:
    """``outcomes_of`` reading ``log`` by object id. An object listed with its version is
    also looked up by its ETag: S3's events name the version in a versioned bucket, the
    local hub's (moto's) do not, so the pipeline named the object by its ETag."""

    def outcomes_of(obj: DroppedObject) -> Sequence[Outcome]:
        found = log.of_object(obj.object_id)
        if not found and obj.version_id is not None:
            found = log.of_object(obj.model_copy(update={"version_id": None}).object_id)
        return found

    return outcomes_of
