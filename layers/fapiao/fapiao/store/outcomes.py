"""Where terminal outcomes go: the reconciliation table, kept as an outbox, and the ERP's
event bus.

OutcomesTable items (template.yaml), one per invoice of an object: ``object_id`` and
``index`` (the key), ``outcome`` (its kind), ``detail`` (the ``Outcome`` model as JSON,
the event's ``detail``) and ``published`` (true once the event is on the bus; an item
without it counts as unpublished). An unrecognisable or failed outcome also carries
``attention`` "U" and ``changed_at`` (the outcome's time, ISO 8601): the keys of the
sparse ``Attention`` index the review queue lists. The first outcome written for a key
is the one that counts, except a *failed* one: the pipeline itself failed, so a later
run that gets further (a redrive, a re-run) replaces it, and its outcome is published
in turn. Any other outcome is never overwritten.

Event schema (EventBridge): ``source`` "fapiao", ``detail-type`` "Invoice outcome",
``detail`` the ``Outcome`` model as JSON (outcome: created | duplicate | rejected |
unrecognisable | failed | identified; object {bucket, key, etag, version_id}; index;
owner; invoice_key; invoice_type {code, name}: the platform's type code and its Chinese
name; expense_id; status; message: the error catalogue's Chinese message and its detail;
message_code: the catalogue's code, an integer as the API gives it; at). The README's
table of it is generated from the model (``fapiao.local.readme``).

``DynamoOutcomes`` (the outbox, ``fapiao.ports.OutcomeOutbox``) and ``EventBridgeOutcomes``
(the bus, ``fapiao.ports.OutcomeBus``) are the adapters.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import ClientError

from fapiao import aws
from fapiao.dates import SHANGHAI
from fapiao.model.erp import event_of_outcome
from fapiao.model.pipeline import Outcome, OutcomeKind, Publication, Recorded
from fapiao.ports import OUTCOME_COUNTS
from fapiao.store.events import EVENT_SOURCE as EVENT_SOURCE  # the tests read it here
from fapiao.store.events import DynamoEventFeed, announce

if TYPE_CHECKING:
    from fapiao.ports import DailyStats

logger = logging.getLogger(__name__)

EVENT_DETAIL_TYPE = "Invoice outcome"
ATTENTION = "U"  # the Attention index's key of an outcome someone has to look at
NEEDS_ATTENTION = frozenset({OutcomeKind.UNRECOGNISABLE, OutcomeKind.FAILED})


class EventBridgeOutcomes:
    """The ERP's event bus (``OutcomeBus``), and the ERP's feed when ``feed`` is given:
    the outcome as the "Invoice outcome" the ERP queue reads, and as its ERP event."""

    def __init__(self, bus: str, client: Any = None, feed: DynamoEventFeed | None = None) -> None:
        self.bus = bus
        self._client = client
        self.feed = feed

    def publish(self, outcome: Outcome) -> None:
        announce(
            self._client if self._client is not None else aws.client("events"),
            self.bus,
            detail_type=EVENT_DETAIL_TYPE,
            detail=outcome.model_dump_json(),
            event=event_of_outcome(outcome),
            feed=self.feed,
        )


def _key(outcome: Outcome) -> dict[str, Any]:
    return {"object_id": {"S": outcome.object.object_id}, "index": {"N": str(outcome.index)}}


def _condition_failed(error: ClientError) -> bool:
    return bool(error.response["Error"]["Code"] == "ConditionalCheckFailedException")


def outcome_item(outcome: Outcome) -> dict[str, Any]:
    """The OutcomesTable item of a new outcome: unpublished, and in the ``Attention``
    index when nobody can act on it but a person (unrecognisable, failed)."""
    item: dict[str, Any] = {
        **_key(outcome),
        "outcome": {"S": outcome.outcome.value},
        "detail": {"S": outcome.model_dump_json()},
        "published": {"BOOL": False},
    }
    if outcome.outcome in NEEDS_ATTENTION:
        item["attention"] = {"S": ATTENTION}
        item["changed_at"] = {"S": outcome.at.isoformat()}
    return item


def _first_or_over_a_failure(outcome: Outcome) -> dict[str, Any]:
    """The write's condition: no outcome yet, or a failed one that this outcome, not
    itself a failure, replaces (a failure recorded again is the first failure)."""
    if outcome.outcome is OutcomeKind.FAILED:
        return {"ConditionExpression": "attribute_not_exists(object_id)"}
    return {
        "ConditionExpression": "attribute_not_exists(object_id) OR outcome = :failed",
        "ExpressionAttributeValues": {":failed": {"S": OutcomeKind.FAILED.value}},
    }


class DynamoOutcomes:
    """The OutcomesTable as the outbox (``OutcomeOutbox``): conditional writes, so a
    record task run again finds the first outcome instead of rewriting it (a failed one
    excepted: a later outcome replaces it)."""

    def __init__(self, table: str, client: Any = None, stats: DailyStats | None = None) -> None:
        self.table = table
        self._client = client
        self.stats = stats  # the day's count of each kind (the console's chart)

    @property
    def client(self) -> Any:
        return self._client if self._client is not None else aws.client("dynamodb")

    def record(self, outcome: Outcome, claim_until: float | None = None) -> Recorded:
        item = outcome_item(outcome)
        if claim_until is not None:  # the writer publishes it: no second write to claim
            item["publishing_until"] = {"N": f"{claim_until:.3f}"}
        try:
            answer = self.client.put_item(
                TableName=self.table,
                Item=item,
                **_first_or_over_a_failure(outcome),
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                ReturnValues="ALL_OLD",
            )
        except ClientError as error:
            if not _condition_failed(error):
                raise
            # ALL_OLD: the failed condition answers the item that is there (no race)
            first: dict[str, Any] = cast(dict[str, Any], error.response)["Item"]
            return Recorded(
                outcome=Outcome.model_validate_json(first["detail"]["S"]),
                published=bool(first.get("published", {}).get("BOOL", False)),
            )
        self._count(outcome, answer.get("Attributes"))
        return Recorded(outcome=outcome, published=False, claimed=claim_until is not None)

    def _count(self, outcome: Outcome, replaced: dict[str, Any] | None) -> None:
        """Count a newly kept outcome on its day, and take back the failure it replaced.
        After the write, not with it: a crash in between loses one count of a statistic,
        never an outcome (the table stays the truth)."""
        if self.stats is None:
            return
        try:
            self.stats.add(
                OUTCOME_COUNTS, outcome.at.astimezone(SHANGHAI).date(), {outcome.outcome.value: 1}
            )
            if replaced is not None:
                failed = Outcome.model_validate_json(replaced["detail"]["S"])
                day = failed.at.astimezone(SHANGHAI).date()
                self.stats.add(OUTCOME_COUNTS, day, {failed.outcome.value: -1})
        except Exception as error:  # a statistic: a warning, not a trace (AWS may be stopping)
            logger.warning(
                "outcome not counted",
                extra={"object_id": outcome.object.object_id, "error": repr(error)[:300]},
            )

    def mark_published(self, outcome: Outcome) -> None:
        """Mark the kept outcome of ``outcome``'s key published, if it is still of
        ``outcome``'s kind: a failure that a later outcome replaced meanwhile marks
        nothing (the later one is published by its own run). KeyError when nothing is
        kept for the key."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_key(outcome),
                UpdateExpression="SET published = :yes",
                ConditionExpression="attribute_exists(object_id) AND outcome = :kind",
                ExpressionAttributeValues={
                    ":yes": {"BOOL": True},
                    ":kind": {"S": outcome.outcome.value},
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not _condition_failed(error):
                raise
            if "Item" not in cast(dict[str, Any], error.response):
                raise KeyError((outcome.object.object_id, outcome.index)) from error

    def claim_publication(self, outcome: Outcome, until: float, now: float) -> Publication:
        """One conditional write: ``publishing_until`` set while the kept outcome is of
        ``outcome``'s kind, unpublished, and nobody's claim runs past ``now``."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_key(outcome),
                UpdateExpression="SET publishing_until = :until",
                ConditionExpression="attribute_exists(object_id) AND outcome = :kind"
                " AND (attribute_not_exists(published) OR published = :no)"
                " AND (attribute_not_exists(publishing_until) OR publishing_until < :now)",
                ExpressionAttributeValues={
                    ":until": {"N": f"{until:.3f}"},
                    ":now": {"N": f"{now:.3f}"},
                    ":no": {"BOOL": False},
                    ":kind": {"S": outcome.outcome.value},
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not _condition_failed(error):
                raise
            kept = cast(dict[str, Any], error.response).get("Item")
            if kept is None:
                raise KeyError((outcome.object.object_id, outcome.index)) from error
            if kept.get("published", {}).get("BOOL") or kept["outcome"]["S"] != outcome.outcome:
                return Publication.DONE
            return Publication.HELD
        return Publication.CLAIMED

    def release_publication(self, outcome: Outcome) -> None:
        """Give a claim up (its publication failed): the next run need not wait."""
        self.client.update_item(
            TableName=self.table, Key=_key(outcome), UpdateExpression="REMOVE publishing_until"
        )

    def of_object(self, object_id: str) -> Sequence[Outcome]:
        items = self.client.query(
            TableName=self.table,
            KeyConditionExpression="object_id = :o",
            ExpressionAttributeValues={":o": {"S": object_id}},
            ConsistentRead=True,
        )["Items"]
        return [Outcome.model_validate_json(item["detail"]["S"]) for item in items]
