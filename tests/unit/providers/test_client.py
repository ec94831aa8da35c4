"""ProviderClient: the retries, backoff, budget, timeouts and transport-failure mapping
that exocr and yipiaoyun share, against an httpx MockTransport (sockets are disabled)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from fapiao.catalogue.errors import Problem
from fapiao.providers.client import JSON, Body, ProviderClient, Reply

URL = "http://provider.test/api"
logger = logging.getLogger("fapiao.providers.test_client")


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


class Served:
    """Answers in order (the last one repeats), and the requests that asked for them."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer


def make(served: Served, **options: Any) -> tuple[ProviderClient, Sleeps]:
    sleeps = Sleeps()
    settings: dict[str, Any] = {
        "client": httpx.Client(transport=httpx.MockTransport(served)),
        "sleep": sleeps,
        "jitter": lambda: 1.0,  # the longest backoff
        **options,
    }
    return ProviderClient("demo", spec="999", logger=logger, **settings), sleeps


def again_while_failing(reply: Reply[Any]) -> tuple[Reply[Any], bool]:
    """A decision like the adapters': retry a retryable failure or a busy provider."""
    return reply, reply.retryable or reply.busy


def ok(body: object = None) -> httpx.Response:
    return httpx.Response(200, json={"code": 0} if body is None else body)


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.DEBUG, logger=logger.name):
        yield caplog


# --- one request --------------------------------------------------------------------------


def test_an_answer_is_read_by_its_body_and_logged_with_its_fields(
    logs: pytest.LogCaptureFixture,
) -> None:
    body = Body("999 JSON", lambda content: content.decode(), lambda text: {"length": len(text)})
    client, _ = make(Served(httpx.Response(200, text="hello")))
    reply = client.post(URL, body, attempt=2, log={"invoice_key": "k"})
    assert (reply.http_status, reply.body, reply.failure, reply.ok, reply.busy) == (
        200,
        "hello",
        None,
        True,
        False,
    )
    [record] = logs.records
    assert record.getMessage() == "demo answered" and record.name == logger.name
    fields = record.__dict__
    assert (fields["invoice_key"], fields["attempt"], fields["http_status"]) == ("k", 2, 200)
    assert fields["length"] == 5 and fields["elapsed_ms"] >= 0
    assert reply.log["invoice_key"] == "k" and reply.log["http_status"] == 200


def test_a_bad_status_with_a_readable_body_is_an_answer() -> None:
    client, _ = make(Served(httpx.Response(500, json={"error_code": 4001})))
    reply = client.post(URL, JSON)
    assert reply.failure is None and reply.body == {"error_code": 4001}
    assert reply.busy and not reply.ok


def test_timeouts_are_cut_to_what_is_left_of_the_budget() -> None:
    served = Served(ok())
    client, _ = make(served, connect_timeout=3.0, read_timeout=10.0)
    client.post(URL, JSON, remaining=5.0)
    client.post(URL, JSON, remaining=1.5)
    first, second = (request.extensions["timeout"] for request in served.requests)
    assert first == {"connect": 3.0, "read": 5.0, "write": 5.0, "pool": 3.0}
    assert second == {"connect": 1.5, "read": 1.5, "write": 1.5, "pool": 1.5}


@pytest.mark.parametrize(
    ("error", "failure"),
    [
        (httpx.ConnectTimeout("connect"), "demo timed out (ConnectTimeout)"),
        (httpx.ReadTimeout("read"), "demo timed out (ReadTimeout)"),
        (httpx.ConnectError("[Errno 111] Connection refused"), "demo unreachable (ConnectError)"),
        (
            httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"),
            "demo unreachable (ConnectError)",
        ),
        (httpx.RemoteProtocolError("peer closed"), "demo unreachable (RemoteProtocolError)"),
    ],
    ids=["connect-timeout", "read-timeout", "refused", "tls", "protocol"],
)
def test_transport_failures_are_retryable_and_the_provider_unavailable(
    logs: pytest.LogCaptureFixture, error: Exception, failure: str
) -> None:
    client, _ = make(Served(error))
    reply = client.post(URL, JSON, log={"endpoint": "send"})
    assert (reply.failure, reply.retryable, reply.problem) == (
        failure,
        True,
        Problem.UPSTREAM_UNAVAILABLE,
    )
    assert reply.http_status is None and reply.body is None
    [record] = logs.records
    assert record.levelno == logging.WARNING
    assert record.__dict__["failure"] == type(error).__name__
    assert record.__dict__["endpoint"] == "send" and "alarm" not in record.__dict__


def test_a_failure_that_is_the_hubs_own_is_not_retried_and_alarms(
    logs: pytest.LogCaptureFixture,
) -> None:
    client, _ = make(Served(httpx.InvalidURL("no host")))
    reply = client.post(URL, JSON)
    assert (reply.failure, reply.retryable, reply.problem) == (
        "demo cannot be called (InvalidURL)",
        False,
        Problem.INTERNAL,
    )
    assert (
        logs.records[-1].levelno == logging.ERROR and logs.records[-1].__dict__["alarm"] == "demo"
    )


@pytest.mark.parametrize(
    ("status", "retryable", "failure"),
    [
        (200, True, "demo answered HTTP 200 without JSON"),  # a broken answer
        (429, True, "demo answered HTTP 429 without JSON"),
        (503, True, "demo answered HTTP 503 without JSON"),
        (404, False, "demo's answer is not 999 (HTTP 404)"),  # a wrong URL, a proxy
    ],
)
def test_an_unreadable_body_is_retried_unless_the_status_says_the_hub_is_wrong(
    logs: pytest.LogCaptureFixture, status: int, retryable: bool, failure: str
) -> None:
    client, _ = make(Served(httpx.Response(status, text="<html>nope</html>")))
    reply = client.post(URL, JSON)
    assert (reply.http_status, reply.failure, reply.retryable) == (status, failure, retryable)
    assert reply.problem is (Problem.UPSTREAM_UNAVAILABLE if retryable else Problem.INTERNAL)
    [record] = logs.records
    assert record.getMessage() == "demo answered no JSON"
    assert ("alarm" in record.__dict__) is not retryable


class Envelope(BaseModel):
    code: int


def test_a_body_that_is_json_but_not_the_spec_is_unreadable_too() -> None:
    body = Body("999 JSON", lambda content: Envelope.model_validate_json(content))
    client, _ = make(Served(httpx.Response(200, json={"code": "not a number"})))
    reply = client.post(URL, body)
    assert reply.failure == "demo answered HTTP 200 without 999 JSON" and reply.retryable


# --- retries ----------------------------------------------------------------------------


def test_retries_back_off_with_full_jitter_up_to_the_cap() -> None:
    served = Served(httpx.Response(503, text=""))
    client, sleeps = make(served, attempts=5, backoff_base=0.5, backoff_cap=1.5)
    reply, requests = client.call(URL, JSON, again_while_failing, no_time=None)
    assert requests == len(served.requests) == 5
    assert reply is not None and reply.failure == "demo answered HTTP 503 without JSON"
    assert sleeps == [0.5, 1.0, 1.5, 1.5]  # no sleep after the last attempt


def test_the_jitter_scales_each_backoff() -> None:
    client, sleeps = make(Served(httpx.ReadTimeout("slow")), attempts=3, jitter=lambda: 0.25)
    client.call(URL, JSON, again_while_failing, no_time=None)
    assert sleeps == [0.125, 0.25]


def test_an_answer_that_decides_ends_the_call() -> None:
    served = Served(httpx.Response(502, text=""), ok({"code": 0, "data": "id"}))
    client, sleeps = make(served)
    reply, requests = client.call(URL, JSON, again_while_failing, no_time=None, json={"a": 1})
    assert reply is not None and reply.body == {"code": 0, "data": "id"}
    assert requests == 2 and sleeps == [0.5]
    assert [request.content for request in served.requests] == [b'{"a":1}', b'{"a":1}']


def test_the_budget_stops_an_attempt_and_a_sleep_that_would_end_past_it() -> None:
    clock = iter([0.0, 0.0, 5.0, 9.0, 9.0])  # start; attempt 1; sleep?; attempt 2; sleep?
    served = Served(httpx.Response(500, text=""))
    client, sleeps = make(served, attempts=5, budget_seconds=10.0, monotonic=lambda: next(clock))
    _, requests = client.call(URL, JSON, again_while_failing, no_time=None)
    assert requests == len(served.requests) == 2  # the second sleep (1 s) would end at 10
    assert sleeps == [0.5]
    assert served.requests[1].extensions["timeout"]["read"] == 1.0  # what was left


def test_no_time_left_asks_nothing() -> None:
    served = Served(ok())
    clock = iter([0.0, 30.0])
    client, _ = make(served, budget_seconds=20.0, monotonic=lambda: next(clock))
    outcome, requests = client.call(URL, JSON, again_while_failing, no_time="not asked")
    assert (outcome, requests, served.requests) == ("not asked", 0, [])


def test_calls_can_share_one_budget() -> None:
    clock = iter([100.0, 104.0, 112.0, 125.0])
    client, _ = make(Served(ok()), budget_seconds=20.0, monotonic=lambda: next(clock))
    started = client.start()
    assert client.time_left(started) == 16.0
    _, requests = client.call(URL, JSON, again_while_failing, no_time=None, started=started)
    assert requests == 1
    assert client.time_left(started) == -5.0  # spent: the next page is not sent


def test_a_client_it_made_is_closed_with_it() -> None:
    client = ProviderClient("demo", spec="999", logger=logger)
    client.close()
    reply = client.post(URL, JSON)  # a closed httpx client refuses: a failure, not a raise
    assert reply.failure is not None and not reply.retryable
