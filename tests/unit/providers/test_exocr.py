"""ExocrVerifier (spec 003) in process: exocr behind an httpx MockTransport (sockets are
disabled here), a fixed clock, recorded sleeps and a fixed jitter, so nothing waits.

What is sent (003's form), what each answer means (every code family), how often exocr
is asked and how long the hub waits between asks, what a dead network or a broken body
ends in; never an exception. The answers are written here from 003's text, not taken
from the adapter."""

from __future__ import annotations

import datetime as dt
import json
import logging
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from fapiao.catalogue.errors import Problem
from fapiao.catalogue.types import InvoiceType
from fapiao.dates import SHANGHAI
from fapiao.model import Invoice, InvoiceState, InvoiceStatus
from fapiao.providers.exocr import (
    Credentials,
    CredentialsUnavailable,
    ExocrVerifier,
    static_credentials,
)
from fapiao.results import Source, Verification

T = InvoiceType
D = Decimal
URL = "http://exocr.test/data/v1/verify_invoice"
APP_KEY = "unit-app-key-5e1b"
APP_SECRET = "unit-app-secret-90ac7f"
NUMBER = "00012345"
NOW = dt.datetime(2024, 6, 1, 10, 30, tzinfo=SHANGHAI)
RETRY_AFTER = dt.timedelta(minutes=7)  # not the default: the setting must be the one used
LATER = NOW + RETRY_AFTER
MIDNIGHT = dt.datetime(2024, 6, 2, tzinfo=SHANGHAI)  # the next Shanghai day after NOW


# --- 003's answers, written from the spec ------------------------------------------------


def vat_data(**fields: Any) -> dict[str, Any]:
    """003 查验数据 for a VAT invoice; amounts differ from what the invoice below says, so
    a mapped value can only have come from the answer."""
    data: dict[str, Any] = {
        "invoice_code": "3100231130",
        "invoice_no": NUMBER,
        "invoice_type": "10",  # response code of 增值税专用发票
        "verify_count": "3",
        "create_date": "20240506",
        "buyer_name": "上海某某科技有限公司",
        "buyer_tax_no": "91310000MA1FL8XQ37",
        "buyer_address": "",
        "buyer_bank_info": "",
        "seller_name": "北京某某有限公司",
        "seller_tax_no": "91110000600037341L",
        "seller_address": "",
        "seller_bank_info": "",
        "total": "1300.00",  # 合计金额 (pre-tax)
        "total_tax": "117.00",  # 合计税额
        "amount": "1417.00",  # 价税合计
        "note": "",
        "machine_no": "",
        "check_code": "01234567890123456789",
        "cancel_flag": "N",
        "inv_status": "0",
        "productO_oil_flag": "N",  # 003's spelling
        "verify_date": "2024-06-01 10:29:00",
        "detail_list": [],
        "agent_mark": "N",
    }
    data.update(fields)
    return data


def envelope(error_code: int, result: dict[str, Any] | None, description: str) -> dict[str, Any]:
    return {
        "result": result,
        "error_code": error_code,
        "description": description,
        "request_id": f"REQ{error_code}",
        "recognize_time": 5,
        "available_count": 99,
        "version": None,
    }


def result(code: int, desc: str, data: dict[str, Any] | None = None) -> httpx.Response:
    """error_code 0 (the call worked) and result_code ``code`` (the verification)."""
    return httpx.Response(
        200, json=envelope(0, {"desc": desc, "data": data, "result_code": code}, "调用成功")
    )


def error(code: int, description: str, status: int = 200) -> httpx.Response:
    """error_code ``code``: the call itself failed."""
    return httpx.Response(status, json=envelope(code, None, description))


def verified(**fields: Any) -> httpx.Response:
    return result(1, "查验成功", vat_data(**fields))


BUSY = error(4007, "服务器忙,请重试")


class Served:
    """exocr in process: answers in order (the last one repeats), and the requests."""

    def __init__(self, *answers: httpx.Response | Exception, time: FakeTime | None = None):
        self.answers = list(answers) or [verified()]
        self.requests: list[httpx.Request] = []
        self.time = time

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.time is not None:
            self.time.now += self.time.per_request
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def form(self, index: int = 0) -> dict[str, str]:
        body = self.requests[index].read().decode("utf-8")
        return dict(parse_qsl(body, keep_blank_values=True))


class FakeTime:
    """A monotonic clock that moves only when the hub sleeps or exocr answers."""

    def __init__(self, per_request: float = 0.0) -> None:
        self.now = 0.0
        self.per_request = per_request
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make(served: Served, **options: Any) -> tuple[ExocrVerifier, FakeTime]:
    time = served.time or FakeTime()
    served.time = time
    settings: dict[str, Any] = {
        "client": httpx.Client(transport=httpx.MockTransport(served)),
        "clock": lambda: NOW,
        "sleep": time.sleep,
        "monotonic": time.monotonic,
        "jitter": lambda: 1.0,  # the longest backoff: 0.5 s, then 1 s
        "retry_after": RETRY_AFTER,
        **options,
    }
    credentials = settings.pop("credentials", static_credentials(APP_KEY, APP_SECRET))
    return ExocrVerifier(URL, credentials, **settings), time


def invoice(**fields: Any) -> Invoice:
    base: dict[str, Any] = {
        "invoice_type": T.VAT_SPECIAL,
        "invoice_code": "3100231130",
        "invoice_number": NUMBER,
        "receipt_date": dt.date(2024, 5, 6),
        "amount": D("100.00"),
        "tax_amount": D("13.00"),
        "total_amount": D("113.00"),
    }
    base.update(fields)
    return Invoice(**base)


def verify(*answers: httpx.Response | Exception, **options: Any) -> tuple[Verification, Served]:
    asked = options.pop("invoice", None) or invoice()
    served = Served(*answers, time=options.pop("time", None))
    verifier, _ = make(served, **options)
    try:
        return verifier.verify(asked), served
    finally:
        verifier.close()


def sleeps_of(served: Served) -> list[float]:
    assert served.time is not None
    return served.time.sleeps


# --- the request ---------------------------------------------------------------------------


def test_the_request_is_003s_form_posted_to_verify_invoice() -> None:
    outcome, served = verify()
    [request] = served.requests
    assert request.method == "POST"
    assert str(request.url) == URL and request.url.path == "/data/v1/verify_invoice"
    assert request.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    # 003 请求参数: the credentials travel in the form; 01's total is 开具金额(不含税);
    # 专票 may leave check_code_last6 empty; no want_image: no picture is paid for.
    assert served.form() == {
        "app_key": APP_KEY,
        "app_secret": APP_SECRET,
        "invoice_type": "01",  # 增值税专用发票
        "invoice_no": NUMBER,
        "invoice_code": "3100231130",
        "total": "100.00",
        "create_date": "20240506",
    }
    assert outcome.provider_calls == 1


@pytest.mark.parametrize(
    ("fields", "expected", "absent"),
    [
        (  # 04: total 可不传; the check code's last six
            {"invoice_type": T.VAT_NORMAL, "check_code": "12345678901234567890"},
            {"invoice_type": "04", "check_code_last6": "567890"},
            {"total"},
        ),
        (  # 10: total is 价税合计
            {"invoice_type": T.VAT_ELECTRONIC_NORMAL, "check_code": "98765432109876543210"},
            {"invoice_type": "10", "total": "113.00", "check_code_last6": "543210"},
            set(),
        ),
        (  # 15: total is 车价合计
            {"invoice_type": T.USED_CAR, "total_amount": D("50000.00")},
            {"invoice_type": "15", "total": "50000.00"},
            {"check_code_last6"},
        ),
        (  # 16: total is 价税合计; a 全电 invoice has no code
            {
                "invoice_type": T.DIGITAL_NORMAL,
                "invoice_code": None,
                "invoice_number": "24312000000012345678",
            },
            {"invoice_type": "16", "total": "113.00", "invoice_no": "24312000000012345678"},
            {"invoice_code"},
        ),
        (  # 17: total is 不含税金额; 区块链发票传入五位校验码
            {"invoice_type": T.BLOCKCHAIN, "check_code": "1234567"},
            {"invoice_type": "17", "total": "100.00", "check_code_last6": "34567"},
            set(),
        ),
    ],
    ids=["04-no-total", "10-total-with-tax", "15-car-price", "16-no-code", "17-five-digits"],
)
def test_the_form_follows_003_per_type(
    fields: dict[str, Any], expected: dict[str, str], absent: set[str]
) -> None:
    _, served = verify(invoice=invoice(**fields))
    form = served.form()
    assert {name: form.get(name) for name in expected} == expected
    assert absent.isdisjoint(form)
    assert (form["app_key"], form["app_secret"]) == (APP_KEY, APP_SECRET)


def test_credentials_are_read_for_every_call() -> None:
    """A rotated secret is used by the next verification, not the first one cached here."""
    keys = iter([Credentials("key-1", "secret-1"), Credentials("key-2", "secret-2")])
    served = Served()
    verifier, _ = make(served, credentials=lambda: next(keys))
    verifier.verify(invoice())
    verifier.verify(invoice())
    assert [(f["app_key"], f["app_secret"]) for f in map(served.form, (0, 1))] == [
        ("key-1", "secret-1"),
        ("key-2", "secret-2"),
    ]


# --- a verified answer ------------------------------------------------------------------------


def test_a_verified_answer_is_y_with_the_tax_authoritys_data() -> None:
    outcome, served = verify(verified())
    assert (outcome.status, outcome.code, outcome.source) == (
        InvoiceStatus.VERIFIED,
        "1",
        Source.PROVIDER,
    )
    assert (outcome.problem, outcome.retry_at, outcome.provider_calls) == (None, None, 1)
    check = outcome.check
    assert check is not None and check.success and not check.cancelled
    assert check.state is InvoiceState.NORMAL and check.verify_count == 3
    assert check.checked_at is not None
    assert check.checked_at.astimezone(SHANGHAI).replace(tzinfo=None) == dt.datetime(
        2024, 6, 1, 10, 29
    )
    mapped = check.invoice
    # 003: total is 合计金额, total_tax 合计税额, amount 价税合计; Decimal from the text
    assert (mapped.amount, mapped.tax_amount, mapped.total_amount) == (
        D("1300.00"),
        D("117.00"),
        D("1417.00"),
    )
    amounts = (mapped.amount, mapped.tax_amount, mapped.total_amount)
    assert all(type(value) is Decimal for value in amounts)
    assert str(mapped.total_amount) == "1417.00"
    assert (mapped.invoice_type, mapped.invoice_number) == (T.VAT_SPECIAL, NUMBER)
    assert (mapped.seller_name, mapped.seller_tax_code) == (
        "北京某某有限公司",
        "91110000600037341L",
    )
    assert mapped.receipt_date == dt.date(2024, 5, 6)
    assert sleeps_of(served) == []


@pytest.mark.parametrize(
    ("fields", "state", "words"),
    [
        ({"cancel_flag": "Y"}, InvoiceState.NORMAL, "作废"),  # 作废 said by the flag alone
        ({"inv_status": "10"}, InvoiceState.VOID, "作废"),
        ({"inv_status": "20"}, InvoiceState.RED_LETTER, "红字"),
        ({"inv_status": "30"}, InvoiceState.RED_REVERSED, "红冲"),
        ({"inv_status": "50"}, InvoiceState.FULLY_RED_REVERSED, "全额红冲"),
    ],
    ids=["cancel-flag", "void", "red-letter", "red-reversed", "fully-reversed"],
)
def test_a_verified_invoice_that_is_not_normal_is_f(
    fields: dict[str, str], state: InvoiceState, words: str
) -> None:
    outcome, served = verify(result(1, "查验成功", vat_data(**fields)))
    assert (outcome.status, outcome.code) == (InvoiceStatus.CHECK_FAILED, "1")
    assert outcome.check is not None and outcome.check.success and outcome.check.state is state
    assert outcome.check.cancelled is (words == "作废")
    assert words in (outcome.reason or "")
    assert outcome.provider_calls == len(served.requests) == 1


# --- the failure codes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        result(9, "所查发票不存在"),
        result(105, "查询发票不规范"),
        error(3204, "发票代码格式错误"),
        error(3207, "5年以前开具的发票无法查询"),
        error(3210, "普票后六位校验码不能为空"),
        error(4001, "参数非法,请重试"),
        error(4001, "参数非法,请重试", status=500),  # a 5xx that says why is an answer
    ],
    ids=["9-not-found", "105-irregular", "3204", "3207", "3210", "4001", "4001-in-a-500"],
)
def test_a_final_refusal_is_f_at_once_in_exocrs_words(answer: httpx.Response) -> None:
    outcome, served = verify(answer, verified())  # a retry would have been verified
    body = json.loads(answer.content)
    code = body["error_code"] or body["result"]["result_code"]
    words = body["description"] if body["error_code"] else body["result"]["desc"]
    assert (outcome.status, outcome.code, outcome.reason) == (
        InvoiceStatus.CHECK_FAILED,
        str(code),
        words,
    )
    assert (outcome.problem, outcome.retry_at) == (None, None)
    assert outcome.check is not None and not outcome.check.success
    assert outcome.provider_calls == len(served.requests) == 1
    assert sleeps_of(served) == []


def test_a_mismatch_is_f_with_what_the_tax_authority_holds() -> None:
    answer = result(
        6, "查验成功发票不一致", vat_data(total="90.00", total_tax="11.70", amount="101.70")
    )
    outcome, served = verify(answer, verified())
    assert (outcome.status, outcome.code, outcome.reason) == (
        InvoiceStatus.CHECK_FAILED,
        "6",
        "查验成功发票不一致",
    )
    assert outcome.check is not None and not outcome.check.success
    assert outcome.check.error == "6"
    held = outcome.check.invoice
    assert (held.amount, held.tax_amount, held.total_amount) == (
        D("90.00"),
        D("11.70"),
        D("101.70"),
    )
    assert outcome.provider_calls == len(served.requests) == 1


def test_the_daily_limit_waits_for_the_next_shanghai_day_without_retrying() -> None:
    outcome, served = verify(result(2, "超过该张票当天查验次数"), verified())
    assert (outcome.status, outcome.code, outcome.problem) == (
        InvoiceStatus.AWAITING_CHECK,
        "2",
        None,
    )
    assert outcome.retry_at == MIDNIGHT
    assert outcome.reason == "超过该张票当天查验次数"
    assert outcome.provider_calls == len(served.requests) == 1
    assert sleeps_of(served) == []


def test_the_daily_limit_late_at_night_is_still_the_next_day() -> None:
    served = Served(result(2, "超过该张票当天查验次数"))
    late = dt.datetime(2024, 6, 1, 23, 59, 30, tzinfo=SHANGHAI)
    verifier, _ = make(served, clock=lambda: late)
    assert verifier.verify(invoice()).retry_at == MIDNIGHT


def test_refused_credentials_are_the_hubs_fault_and_alarm(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="fapiao.providers.exocr"):
        outcome, served = verify(error(4002, "授权验证未通过,请检查appKey与appSecret是否正确"))
    assert (outcome.status, outcome.code, outcome.problem) == (
        InvoiceStatus.AWAITING_CHECK,
        "4002",
        Problem.INTERNAL,
    )
    assert outcome.retry_at == LATER
    assert outcome.provider_calls == len(served.requests) == 1
    assert any(r.__dict__.get("alarm") == "exocr_credentials" for r in caplog.records)


# --- a busy exocr ------------------------------------------------------------------------


def test_busy_4007_is_retried_then_answered() -> None:
    outcome, served = verify(BUSY, BUSY, verified())
    assert (outcome.status, outcome.code) == (InvoiceStatus.VERIFIED, "1")
    assert outcome.provider_calls == len(served.requests) == 3
    assert sleeps_of(served) == [0.5, 1.0]  # 0.5 s, doubled
    assert served.form(0) == served.form(2)  # the same request each time


@pytest.mark.parametrize(
    "answer",
    [
        BUSY,
        error(3202, "发票查验操作异常(调用上游接口出现异常)"),
        error(3213, "查验异常(查验通道网络原因)"),
        result(7, "查验异常(查验通道网络原因)"),
        result(8, "发票查验操作异常(调用上游接口出现异常)"),
    ],
    ids=["4007", "3202", "3213", "7", "8"],
)
def test_a_provider_busy_every_time_ends_c_after_the_attempts(answer: httpx.Response) -> None:
    outcome, served = verify(answer)
    body = json.loads(answer.content)
    code = body["error_code"] or body["result"]["result_code"]
    assert (outcome.status, outcome.code, outcome.problem) == (
        InvoiceStatus.AWAITING_CHECK,
        str(code),
        None,
    )
    assert outcome.retry_at == LATER and outcome.reason
    assert outcome.provider_calls == len(served.requests) == 3
    assert sleeps_of(served) == [0.5, 1.0]


def test_the_backoff_is_jittered_exponential_and_capped() -> None:
    draws = iter([1.0, 0.5, 0.25, 1.0])
    outcome, served = verify(
        BUSY, attempts=5, backoff_base=0.5, backoff_cap=1.5, jitter=lambda: next(draws)
    )
    # jitter * min(cap, base * 2 ** (n - 1)): 1*0.5, 0.5*1, 0.25*min(1.5, 2), 1*min(1.5, 4)
    assert sleeps_of(served) == [0.5, 0.5, 0.375, 1.5]
    assert outcome.provider_calls == len(served.requests) == 5


def test_one_attempt_means_no_retry_and_no_sleep() -> None:
    outcome, served = verify(BUSY, verified(), attempts=1)
    assert (outcome.status, outcome.code, outcome.provider_calls) == ("C", "4007", 1)
    assert len(served.requests) == 1 and sleeps_of(served) == []


def test_an_unknown_code_is_deferred_after_the_attempts() -> None:
    outcome, served = verify(error(9999, "新的错误"))
    assert (outcome.status, outcome.code, outcome.problem) == (
        InvoiceStatus.AWAITING_CHECK,
        "9999",
        None,
    )
    assert outcome.retry_at == LATER
    assert outcome.provider_calls == len(served.requests) == 3


# --- the time budget ---------------------------------------------------------------------


def test_the_budget_cuts_retries_short() -> None:
    # Each answer takes 4 s of a 10 s budget: ask (4), sleep 0.5 (4.5), ask (8.5),
    # sleep 1 (9.5), ask with 0.5 s left (13.5); a 2 s sleep would end past the budget.
    time = FakeTime(per_request=4.0)
    outcome, served = verify(BUSY, time=time, attempts=10, budget_seconds=10.0)
    assert outcome.provider_calls == len(served.requests) == 3
    assert time.sleeps == [0.5, 1.0]
    assert (outcome.status, outcome.code) == (InvoiceStatus.AWAITING_CHECK, "4007")
    # The last attempt's timeouts are cut to what is left of the budget.
    first, last = (served.requests[i].extensions["timeout"] for i in (0, 2))
    assert (first["connect"], first["read"]) == (3.0, 10.0)
    assert last["connect"] == last["read"] == pytest.approx(0.5)


def test_a_sleep_that_would_end_past_the_budget_is_not_slept() -> None:
    time = FakeTime(per_request=4.8)
    outcome, served = verify(BUSY, verified(), time=time, budget_seconds=5.0)
    assert len(served.requests) == outcome.provider_calls == 1
    assert time.sleeps == []
    assert outcome.status is InvoiceStatus.AWAITING_CHECK


def test_no_budget_asks_nothing() -> None:
    outcome, served = verify(budget_seconds=0.0)
    assert served.requests == [] and outcome.provider_calls == 0
    assert (outcome.status, outcome.retry_at) == (InvoiceStatus.AWAITING_CHECK, LATER)
    assert outcome.reason == "exocr was not asked: no time left"


# --- the network ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failure", "words"),
    [
        (httpx.ReadTimeout("read timed out"), "timed out"),
        (httpx.ConnectTimeout("connect timed out"), "timed out"),
        (httpx.ConnectError("[Errno 111] Connection refused"), "unreachable"),
        (
            httpx.RemoteProtocolError("Server disconnected without sending a response"),
            "unreachable",
        ),
    ],
    ids=["read-timeout", "connect-timeout", "refused", "disconnected"],
)
def test_a_transport_error_ends_upstream_unavailable_with_the_retry_after(
    failure: Exception, words: str
) -> None:
    outcome, served = verify(failure)
    assert (outcome.status, outcome.problem, outcome.code, outcome.check) == (
        InvoiceStatus.AWAITING_CHECK,
        Problem.UPSTREAM_UNAVAILABLE,
        None,
        None,
    )
    assert outcome.retry_at == LATER
    assert words in (outcome.reason or "")
    assert outcome.provider_calls == len(served.requests) == 3
    assert sleeps_of(served) == [0.5, 1.0]


def test_a_timeout_then_an_answer_is_verified() -> None:
    outcome, served = verify(httpx.ReadTimeout("slow"), verified())
    assert (outcome.status, outcome.problem) == (InvoiceStatus.VERIFIED, None)
    assert outcome.provider_calls == len(served.requests) == 2
    assert sleeps_of(served) == [0.5]


# --- bodies that are not 003 ------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, text="<html><body>维护中</body></html>"),
        httpx.Response(200, json={"code": 0, "data": {"invoice_no": NUMBER}}),
        httpx.Response(200, json=[1, 2]),
        httpx.Response(200, json={"error_code": "busy"}),
        httpx.Response(503, text="<html>Service Unavailable</html>"),
    ],
    ids=["html-200", "another-shape", "a-list", "code-not-a-number", "html-503"],
)
def test_an_answer_that_is_not_003_is_retried_then_upstream_unavailable(
    answer: httpx.Response,
) -> None:
    outcome, served = verify(answer)
    assert (outcome.status, outcome.problem) == (
        InvoiceStatus.AWAITING_CHECK,
        Problem.UPSTREAM_UNAVAILABLE,
    )
    assert outcome.retry_at == LATER
    assert "003 JSON" in (outcome.reason or "")
    assert outcome.provider_calls == len(served.requests) == 3
    assert sleeps_of(served) == [0.5, 1.0]


def test_an_html_200_then_an_answer_is_verified() -> None:
    outcome, served = verify(httpx.Response(200, text="<html></html>"), verified())
    assert (outcome.status, outcome.provider_calls) == (InvoiceStatus.VERIFIED, 2)
    assert len(served.requests) == 2 and sleeps_of(served) == [0.5]


def test_a_404_page_is_the_hubs_fault_alarmed_and_not_retried(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="fapiao.providers.exocr"):
        outcome, served = verify(httpx.Response(404, text="<html>404 Not Found</html>"))
    assert (outcome.status, outcome.problem) == (InvoiceStatus.AWAITING_CHECK, Problem.INTERNAL)
    assert outcome.retry_at == LATER
    assert outcome.provider_calls == len(served.requests) == 1
    assert sleeps_of(served) == []
    assert any(r.__dict__.get("alarm") == "exocr" for r in caplog.records)


@pytest.mark.parametrize(
    "fields",
    [{"inv_status": "99"}, {"amount": "一千四百一十七元"}, {"invoice_type": "999"}],
    ids=["unknown-state", "amount-in-words", "unknown-type"],
)
def test_a_paid_answer_the_hub_cannot_read_alarms_and_is_not_retried(
    fields: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="fapiao.providers.exocr"):
        outcome, served = verify(result(1, "查验成功", vat_data(**fields)), verified())
    assert (outcome.status, outcome.problem, outcome.code) == (
        InvoiceStatus.AWAITING_CHECK,
        Problem.INTERNAL,
        "1",
    )
    assert "cannot be read" in (outcome.reason or "")
    assert outcome.retry_at == LATER
    assert outcome.provider_calls == len(served.requests) == 1  # paid once, not again
    assert any(r.__dict__.get("alarm") == "exocr" for r in caplog.records)


def test_fields_003_does_not_name_are_tolerated() -> None:
    payload = envelope(
        0, {"desc": "查验成功", "data": vat_data(new_field="x"), "result_code": 1}, ""
    )
    payload["trace"] = "t"
    outcome, _ = verify(httpx.Response(200, json=payload))
    assert outcome.status is InvoiceStatus.VERIFIED


# --- what is never asked ------------------------------------------------------------------


def failing_credentials() -> Credentials:
    raise CredentialsUnavailable("secret exocr cannot be read: ResourceNotFoundException")


def test_unavailable_credentials_ask_nothing_and_alarm(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="fapiao.providers.exocr"):
        outcome, served = verify(credentials=failing_credentials)
    assert served.requests == [] and outcome.provider_calls == 0
    assert (outcome.status, outcome.problem, outcome.retry_at) == (
        InvoiceStatus.AWAITING_CHECK,
        Problem.INTERNAL,
        LATER,
    )
    assert any(r.__dict__.get("alarm") == "exocr_credentials" for r in caplog.records)


def test_a_type_exocr_does_not_verify_asks_nothing() -> None:
    outcome, served = verify(invoice=invoice(invoice_type=T.TAXI, invoice_code=None))
    assert served.requests == [] and outcome.provider_calls == 0
    assert outcome.status is InvoiceStatus.RECOGNIZED


def test_an_invoice_without_a_date_fails_without_asking() -> None:
    outcome, served = verify(invoice=invoice(receipt_date=None))
    assert served.requests == [] and outcome.provider_calls == 0
    assert (outcome.status, outcome.code) == (InvoiceStatus.CHECK_FAILED, "4001")


# --- provider_calls and the logs -----------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "calls"),
    [
        ((verified(),), 1),
        ((BUSY, verified()), 2),
        ((httpx.ConnectError("refused"), BUSY, verified()), 3),
        ((httpx.ReadTimeout("slow"),), 3),
        ((httpx.Response(502, text="bad gateway"), result(9, "所查发票不存在")), 2),
    ],
    ids=["one", "busy-then-verified", "refused-busy-verified", "timeouts", "502-then-9"],
)
def test_provider_calls_count_the_requests_made(answers: tuple[Any, ...], calls: int) -> None:
    outcome, served = verify(*answers)
    assert outcome.provider_calls == len(served.requests) == calls
    assert Verification.model_validate_json(outcome.model_dump_json()) == outcome


def test_credentials_never_reach_the_outcome_or_the_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    for answers in (
        [verified()],
        [BUSY, httpx.ReadTimeout("slow"), httpx.Response(200, text="{broken")],
        [error(4002, "授权验证未通过")],
        [httpx.Response(404, text="nope")],
    ):
        outcome, _ = verify(*answers)
        assert APP_SECRET not in outcome.model_dump_json() and APP_SECRET not in repr(outcome)
    assert "exocr answered" in caplog.text  # the capture works
    for secret in (APP_KEY, APP_SECRET, "app_secret="):
        assert secret not in caplog.text
        assert all(secret not in repr(r.__dict__) for r in caplog.records)
