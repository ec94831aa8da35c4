"""The ERP API (functions/erp/app.py) through its handler as API Gateway calls it, on the
local AWS's tables (template.yaml): the pull feed and its cursor, the events' schema,
webhook subscriptions, the delivery log and redeliveries (fapiao.services.webhooks), the
roles of fapiao.api.roles, refusals in the platform envelope, and /openapi.json's
reference to the schema."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import jsonschema
import pytest

from fapiao import aws
from fapiao.local.apigw import HttpRequest, LambdaContext, openapi_document, to_event
from fapiao.local.aws import LOCAL_CREDENTIALS
from fapiao.local.resources import LocalNames
from fapiao.local.template import Template
from fapiao.model import InvoiceStatus
from fapiao.model.erp import ErpEvent, event_of_outcome, event_of_status_change
from fapiao.model.pipeline import DroppedObject, Outcome, OutcomeKind
from fapiao.model.status import InvoiceTypeName, StatusChange
from fapiao.settings import reset_settings
from fapiao.store.events import DynamoEventFeed
from support import REGION, TEMPLATE, Session, handler_module

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 12, 1, 9, 30, tzinfo=SHANGHAI)
ROUTES = Template(TEMPLATE).routes
TYPE = InvoiceTypeName(code="10", name="增值税电子普通发票")
RECEIVER = "http://127.0.0.1:9/hooks/fapiao"  # never answered: nothing is delivered here


# --- events of every kind ----------------------------------------------------------------------


def outcome_event(
    n: int,
    kind: OutcomeKind = OutcomeKind.CREATED,
    status: InvoiceStatus | None = InvoiceStatus.VERIFIED,
    message_code: int | None = None,
    at: dt.datetime = NOW,
) -> ErpEvent:
    outcome = Outcome(
        outcome=kind,
        object=DroppedObject(
            bucket="fapiao-drop", key=f"acme/inbox/{n}.pdf", etag=f"e{n}", version_id=f"v{n}"
        ),
        owner="acme",
        invoice_key=f"0330221002{n:010d}" if status is not None else None,
        invoice_type=TYPE if status is not None else None,
        expense_id=7 if status is not None else None,
        status=status,
        message=None if message_code is None else "发票信息不全,补全后查验: total_amount",
        message_code=message_code,
        at=at + dt.timedelta(seconds=n),
    )
    return event_of_outcome(outcome)


def status_event(n: int, previous: InvoiceStatus, status: InvoiceStatus) -> ErpEvent:
    change = StatusChange(
        invoice_key=f"0330221002{n:010d}",
        owner="acme",
        expense_id=7,
        previous_status=previous,
        status=status,
        invoice_type=TYPE,
        at=NOW + dt.timedelta(hours=1, seconds=n),
    )
    return event_of_status_change(change)


def every_kind() -> list[ErpEvent]:
    """One event of each type the hub makes."""
    found = [
        outcome_event(1),
        outcome_event(2, status=InvoiceStatus.CHECK_FAILED, message_code=907001),
        outcome_event(3, status=InvoiceStatus.AWAITING_CHECK, message_code=907010),
        outcome_event(4, kind=OutcomeKind.DUPLICATE, message_code=907002),
        outcome_event(5, kind=OutcomeKind.UNRECOGNISABLE, status=None, message_code=907009),
        outcome_event(6, kind=OutcomeKind.FAILED, status=None, message_code=500000),
        outcome_event(7, kind=OutcomeKind.IDENTIFIED, status=InvoiceStatus.RECOGNIZED),
        status_event(8, InvoiceStatus.AWAITING_CHECK, InvoiceStatus.VERIFIED),
        status_event(9, InvoiceStatus.UNRECOGNISABLE, InvoiceStatus.VERIFIED),  # a review fix
    ]
    types = {event.type for event in found}
    assert types == {
        "invoice.created",
        "invoice.rejected",
        "invoice.awaiting_completion",
        "invoice.duplicate",
        "invoice.unrecognisable",
        "invoice.failed",
        "invoice.identified",
        "invoice.status_changed",
    }
    return found


# --- the handler on the local AWS --------------------------------------------------------------


@pytest.fixture
def environment(
    monkeypatch: pytest.MonkeyPatch, tables: Session, names: LocalNames
) -> Iterator[None]:
    variables = {
        **LOCAL_CREDENTIALS,
        "AWS_ENDPOINT_URL": tables.endpoint,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        **names.function_environment(),
        "FAPIAO_WEBHOOK_HTTPS_ONLY": "false",  # as the local hub runs
        "FAPIAO_ALLOW_LOOPBACK_FETCH": "1",  # the receiver of these tests is on loopback
    }
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    reset_settings()
    aws.client.cache_clear()
    yield
    aws.client.cache_clear()
    reset_settings()


@pytest.fixture
def erp(environment: None) -> ModuleType:
    return handler_module("ErpFunction")


@pytest.fixture
def feed(environment: None, names: LocalNames) -> DynamoEventFeed:
    return DynamoEventFeed(names.ref("EventsTable"))


def call(
    module: ModuleType,
    method: str,
    path: str,
    body: Any = None,
    query: dict[str, Any] | None = None,
    role: str | None = None,
    raw: bytes | None = None,
) -> tuple[int, Any]:
    """The handler's answer to a request, as the hub's API Gateway passes it on: the
    authorizer's context names the key's role (none: a key from before roles, admin)."""
    found = [
        (route, match.groupdict())
        for route in ROUTES
        if route.function == "ErpFunction"
        and route.method == method
        and (match := route.pattern.match(path))
    ]
    assert found, f"no {method} {path} in template.yaml"
    route, parameters = found[0]
    data = raw if raw is not None else b"" if body is None else json.dumps(body).encode()
    headers = [("Content-Type", "application/json")] if data else []
    request = HttpRequest(method, path, urlencode(query or {}), headers, data)
    event = to_event(request, route, parameters)
    context: dict[str, Any] = {"client_id": "erp-client", "principalId": "erp-client"}
    if role is not None:
        context["role"] = role
    event["requestContext"]["authorizer"] = context
    result = module.lambda_handler(event, LambdaContext("ErpFunction"))
    return result["statusCode"], json.loads(result["body"])


def assert_refused(answer: tuple[int, Any], status: int, code: int) -> str:
    """A refusal in the platform envelope; answers its resMsg."""
    got, body = answer
    assert (got, body["resCode"], body["data"]) == (status, code, None), body
    assert isinstance(body["resMsg"], str) and body["resMsg"]
    return str(body["resMsg"])


def read_ids(module: ModuleType, limit: int, after: str | None = None) -> list[str]:
    ids: list[str] = []
    while True:
        query: dict[str, Any] = {"limit": limit}
        if after is not None:
            query["after"] = after
        status, page = call(module, "GET", "/erp/events", query=query)
        assert status == 200
        assert set(page) == {"events", "next"}
        assert isinstance(page["next"], str) and page["next"], "next is never null"
        assert len(page["events"]) <= limit
        if not page["events"]:
            return ids
        ids += [event["id"] for event in page["events"]]
        after = page["next"]


# --- the feed ----------------------------------------------------------------------------------


def test_an_empty_feed_answers_no_events_and_a_cursor(erp: ModuleType) -> None:
    status, page = call(erp, "GET", "/erp/events")
    assert status == 200
    assert page["events"] == []
    assert isinstance(page["next"], str) and page["next"]
    status, again = call(erp, "GET", "/erp/events", query={"after": page["next"]})
    assert (status, again["events"]) == (200, [])


def test_pages_of_2_and_of_10_list_the_same_ids_in_the_same_order(
    erp: ModuleType, feed: DynamoEventFeed
) -> None:
    events = [outcome_event(n) for n in range(7)]
    for event in events:
        feed.append(event)
    expected = [event.id for event in events]
    assert read_ids(erp, 2) == expected
    assert read_ids(erp, 10) == expected
    assert len(set(expected)) == 7


def test_the_feed_serves_each_event_as_it_was_stored_and_reads_on_from_its_cursor(
    erp: ModuleType, feed: DynamoEventFeed
) -> None:
    first, third = outcome_event(1), outcome_event(3)
    second = status_event(2, InvoiceStatus.AWAITING_CHECK, InvoiceStatus.VERIFIED)
    feed.append(first)
    feed.append(second)
    status, page = call(erp, "GET", "/erp/events", query={"limit": 1})
    assert status == 200
    assert page["events"] == [json.loads(first.body())]
    saved = page["next"]
    status, page = call(erp, "GET", "/erp/events", query={"after": saved})
    assert [ErpEvent.model_validate(event) for event in page["events"]] == [second]
    feed.append(third)  # after the reader's last page: the saved cursor finds it too
    assert read_ids(erp, 10, after=saved) == [second.id, third.id]
    assert read_ids(erp, 10, after=page["next"]) == [third.id]


def test_the_default_page_is_100_events(erp: ModuleType, feed: DynamoEventFeed) -> None:
    for n in range(101):
        feed.append(outcome_event(n))
    status, page = call(erp, "GET", "/erp/events")
    assert (status, len(page["events"])) == (200, 100)
    status, page = call(erp, "GET", "/erp/events", query={"after": page["next"], "limit": 500})
    assert (status, len(page["events"])) == (200, 1)


@pytest.mark.parametrize("limit", ["0", "501", "-1", "ten", "1.5"])
def test_a_limit_outside_1_to_500_is_400_in_the_envelope(erp: ModuleType, limit: str) -> None:
    said = assert_refused(call(erp, "GET", "/erp/events", query={"limit": limit}), 400, 400000)
    assert said.startswith("请求参数错误")
    assert "limit" in said


@pytest.mark.parametrize(
    "cursor",
    ["nope", "djEuYWJj", "v1.5", "", "x" * 300, "%%%"],
    ids=["garbage", "not a number inside", "unencoded", "empty", "too long", "not base64"],
)
def test_a_cursor_not_made_by_the_feed_is_400_in_the_envelope(erp: ModuleType, cursor: str) -> None:
    said = assert_refused(call(erp, "GET", "/erp/events", query={"after": cursor}), 400, 400000)
    assert "after" in said


# --- the schema ----------------------------------------------------------------------------


def test_every_kind_of_event_in_the_feed_validates_against_the_served_schema(
    erp: ModuleType, feed: DynamoEventFeed
) -> None:
    for event in every_kind():
        feed.append(event)
    status, schema = call(erp, "GET", "/erp/schema.json")
    assert status == 200
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    validator = jsonschema.Draft202012Validator(schema)
    validator.check_schema(schema)
    status, page = call(erp, "GET", "/erp/events", query={"limit": 500})
    assert len(page["events"]) == 9
    for event in page["events"]:
        validator.validate(event)
    # The schema refuses what is not an event: the check above could fail.
    wrong = dict(page["events"][0], type="invoice.bogus")
    assert not validator.is_valid(wrong)
    assert not validator.is_valid({k: v for k, v in page["events"][0].items() if k != "id"})
    data = dict(page["events"][0]["data"], message_code="907001")
    assert not validator.is_valid(dict(page["events"][0], data=data))


def test_openapi_json_references_the_schema_for_the_feeds_events() -> None:
    document = openapi_document(Template(TEMPLATE))
    answer = document["paths"]["/erp/events"]["get"]["responses"]["200"]
    schema = answer["content"]["application/json"]["schema"]
    assert schema["properties"]["events"]["items"] == {"$ref": "/erp/schema.json"}
    assert schema["required"] == ["events", "next"]
    assert "/erp/schema.json" in document["paths"]
    for path in ("/erp/webhooks", "/erp/webhooks/{webhook_id}", "/erp/deliveries"):
        assert path in document["paths"]


# --- roles -----------------------------------------------------------------------------------

ADMIN_ONLY = [
    ("GET", "/erp/webhooks"),
    ("POST", "/erp/webhooks"),
    ("DELETE", "/erp/webhooks/wh_x"),
    ("POST", "/erp/webhooks/wh_x/rotate-secret"),
    ("GET", "/erp/deliveries"),
    ("POST", "/erp/redeliveries"),
]


@pytest.mark.parametrize("role", ["erp", "admin"])
def test_erp_and_admin_keys_read_the_feed_and_the_schema(erp: ModuleType, role: str) -> None:
    assert call(erp, "GET", "/erp/events", role=role)[0] == 200
    assert call(erp, "GET", "/erp/schema.json", role=role)[0] == 200


@pytest.mark.parametrize(("method", "path"), ADMIN_ONLY)
def test_an_erp_key_gets_403_on_webhooks_before_its_request_is_read(
    erp: ModuleType, method: str, path: str
) -> None:
    garbage = b'{"url": not json' if method == "POST" else None
    said = assert_refused(call(erp, method, path, role="erp", raw=garbage), 403, 403000)
    assert said.startswith("无权调用该接口")


@pytest.mark.parametrize("role", ["review", "submit"])
def test_review_and_submit_keys_get_403_on_the_feed_and_the_schema(
    erp: ModuleType, role: str
) -> None:
    assert_refused(call(erp, "GET", "/erp/events", role=role), 403, 403000)
    assert_refused(call(erp, "GET", "/erp/schema.json", role=role), 403, 403000)
    assert_refused(call(erp, "GET", "/erp/webhooks", role=role), 403, 403000)


def test_a_role_the_hub_does_not_know_is_refused(erp: ModuleType) -> None:
    assert_refused(call(erp, "GET", "/erp/events", role="root"), 403, 403000)


def test_an_unknown_route_is_404_in_the_envelope(erp: ModuleType) -> None:
    route = next(r for r in ROUTES if r.path == "/erp/webhooks/{webhook_id}")
    event = to_event(HttpRequest("GET", "/erp/webhooks/wh_x", "", [], b""), route, {})
    event["httpMethod"] = "PATCH"
    result = erp.lambda_handler(event, LambdaContext("ErpFunction"))
    assert result["statusCode"] == 404
    assert json.loads(result["body"])["resCode"] == 404000


# --- webhook subscriptions (fapiao.services.webhooks) ----------------------------------------


def add(erp: ModuleType, url: str = RECEIVER, **fields: Any) -> dict[str, Any]:
    status, added = call(erp, "POST", "/erp/webhooks", {"url": url, **fields})
    assert status == 201, added
    return dict(added)


def test_a_subscription_is_added_with_its_secret_once_and_listed_without_it(
    erp: ModuleType,
) -> None:
    added = add(erp, events=["created", "invoice.status_changed"], owner="acme")
    assert {"id", "url", "secret", "enabled", "events"} <= set(added)
    assert added["id"].startswith("wh_")
    assert added["secret"].startswith("whsec_")
    assert (added["url"], added["enabled"]) == (RECEIVER, True)
    assert set(added["events"]) == {"invoice.created", "invoice.status_changed"}
    status, listed = call(erp, "GET", "/erp/webhooks")
    assert status == 200
    (shown,) = listed["webhooks"]
    assert shown["id"] == added["id"]
    assert "secret" not in shown and "previous_secret" not in shown
    assert added["secret"] not in json.dumps(listed)


def test_a_subscription_without_events_gets_every_event(erp: ModuleType) -> None:
    added = add(erp)
    assert added["events"] == []  # empty: every event
    status, listed = call(erp, "GET", "/erp/webhooks")
    assert status == 200
    assert [shown["id"] for shown in listed["webhooks"]] == [added["id"]]


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/hook",
        "file:///etc/passwd",
        "ftp://127.0.0.1/",
    ],
)
def test_an_unsafe_url_is_422001_and_nothing_is_stored(erp: ModuleType, url: str) -> None:
    said = assert_refused(call(erp, "POST", "/erp/webhooks", {"url": url}), 422, 422001)
    assert said.startswith("回调地址不可用")
    assert call(erp, "GET", "/erp/webhooks")[1] == {"webhooks": []}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"url": ""},
        {"url": RECEIVER, "events": "created"},
        {"url": RECEIVER, "events": ["nonsense"]},
        {"url": RECEIVER, "event": ["created"]},
    ],
    ids=["no url", "empty url", "events not a list", "unknown word", "misspelt field"],
)
def test_a_malformed_subscription_is_400(erp: ModuleType, body: dict[str, Any]) -> None:
    assert_refused(call(erp, "POST", "/erp/webhooks", body), 400, 400000)
    assert call(erp, "GET", "/erp/webhooks")[1] == {"webhooks": []}


def test_a_body_that_is_not_json_is_400(erp: ModuleType) -> None:
    assert_refused(call(erp, "POST", "/erp/webhooks", raw=b'{"url": '), 400, 400000)


def test_a_removed_subscription_is_gone_and_removing_it_again_is_404(erp: ModuleType) -> None:
    added = add(erp)
    status, answer = call(erp, "DELETE", f"/erp/webhooks/{added['id']}")
    assert (status, answer) == (200, {"id": added["id"], "removed": True})
    assert call(erp, "GET", "/erp/webhooks")[1] == {"webhooks": []}
    assert_refused(call(erp, "DELETE", f"/erp/webhooks/{added['id']}"), 404, 404000)


def test_a_rotated_secret_is_new_and_the_old_one_signs_for_24_hours(erp: ModuleType) -> None:
    added = add(erp)
    status, rotated = call(erp, "POST", f"/erp/webhooks/{added['id']}/rotate-secret")
    assert status == 200
    assert rotated["id"] == added["id"]
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != added["secret"]
    until = dt.datetime.fromisoformat(rotated["previous_secret_valid_until"])
    left = until - dt.datetime.now(dt.UTC)
    assert dt.timedelta(hours=23) < left <= dt.timedelta(hours=24, minutes=1)
    assert_refused(call(erp, "POST", "/erp/webhooks/wh_nobody/rotate-secret"), 404, 404000)


# --- deliveries and redeliveries ---------------------------------------------------------------


def test_the_delivery_log_starts_empty_and_an_unknown_subscription_is_404(
    erp: ModuleType,
) -> None:
    added = add(erp)
    assert call(erp, "GET", "/erp/deliveries") == (200, {"attempts": []})
    status, answer = call(
        erp, "GET", "/erp/deliveries", query={"webhook_id": added["id"], "failed": "true"}
    )
    assert (status, answer) == (200, {"attempts": []})
    assert_refused(call(erp, "GET", "/erp/deliveries", query={"webhook_id": "wh_x"}), 404, 404000)
    assert_refused(call(erp, "GET", "/erp/deliveries", query={"failed": "maybe"}), 400, 400000)


def test_a_redelivery_schedules_the_event_to_each_matching_subscription(
    erp: ModuleType, feed: DynamoEventFeed
) -> None:
    event = outcome_event(1)
    feed.append(event)
    every = add(erp)
    created = add(erp, url=RECEIVER + "/created", events=["created"])
    add(erp, url=RECEIVER + "/duplicates", events=["duplicate"])  # not this event's type
    status, answer = call(erp, "POST", "/erp/redeliveries", {"event_id": event.id})
    assert status == 200, answer
    assert answer["scheduled"] == 2
    assert sorted(answer["deliveries"], key=lambda d: d["subscription_id"]) == sorted(
        [
            {"subscription_id": every["id"], "event_id": event.id},
            {"subscription_id": created["id"], "event_id": event.id},
        ],
        key=lambda d: d["subscription_id"],
    )
    since = (event.timestamp - dt.timedelta(minutes=1)).isoformat()
    status, answer = call(erp, "POST", "/erp/redeliveries", {"since": since})
    assert (status, answer["scheduled"]) == (200, 2)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"event_id": "evt_x", "since": "2026-12-01T09:00:00+08:00"},
        {"since": "yesterday"},
        {"since": "2026-12-01T09:00:00"},  # no offset: which 09:00?
    ],
    ids=["neither", "both", "not a time", "no offset"],
)
def test_a_redelivery_names_one_event_or_one_time(erp: ModuleType, body: dict[str, Any]) -> None:
    assert_refused(call(erp, "POST", "/erp/redeliveries", body), 400, 400000)


def test_a_redelivery_of_an_unknown_event_is_404(erp: ModuleType) -> None:
    add(erp)
    assert_refused(call(erp, "POST", "/erp/redeliveries", {"event_id": "evt_nobody"}), 404, 404000)
