"""ExocrVerifier against the fake exocr on loopback: every code of spec 003, timeouts,
5xx storms and broken JSON end in a documented status, never in an exception."""

from __future__ import annotations

import datetime as dt
import io
import logging
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from fakes.exocr_server import (
    APP_KEY,
    APP_SECRET,
    EXAMPLE,
    FakeExocr,
    error,
    example,
    raw,
    result,
    slow,
    vat_data,
)
from fapiao.catalogue.errors import Problem
from fapiao.catalogue.types import InvoiceType
from fapiao.dates import SHANGHAI
from fapiao.mapping.exocr import parse_verify_response
from fapiao.mapping.invoice_create import to_receipt_check
from fapiao.mapping.ocr_sync import to_check_result
from fapiao.model import Invoice, InvoiceState, InvoiceStatus
from fapiao.providers.exocr import ExocrVerifier, static_credentials
from fapiao.results import Source, Verification

T = InvoiceType
D = Decimal
NOW = dt.datetime(2024, 6, 1, 10, 30, tzinfo=SHANGHAI)
LATER = NOW + dt.timedelta(minutes=5)  # the default retry_after
NUMBER = "00012345"


@pytest.fixture(scope="module")
def exocr() -> Iterator[FakeExocr]:
    with FakeExocr() as fake:
        yield fake


@pytest.fixture(autouse=True)
def _fresh(exocr: FakeExocr) -> None:
    exocr.calls.clear()
    exocr.script(NUMBER)  # nothing scripted: verified


class Recorder:
    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def make_verifier(exocr: FakeExocr, **options: Any) -> tuple[ExocrVerifier, Recorder]:
    sleep = Recorder()
    settings: dict[str, Any] = {
        "connect_timeout": 1.0,
        "read_timeout": 1.0,
        "clock": lambda: NOW,
        "sleep": sleep,
        "jitter": lambda: 1.0,  # the longest backoff: 0.5 s, then 1 s
        **options,
    }
    verifier = ExocrVerifier(
        f"{exocr.url}/data/v1/verify_invoice", static_credentials(APP_KEY, APP_SECRET), **settings
    )
    return verifier, sleep


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


def verify(exocr: FakeExocr, *answers: Any, **options: Any) -> tuple[Verification, Recorder]:
    exocr.script(NUMBER, *answers)
    verifier, sleep = make_verifier(exocr, **options)
    try:
        return verifier.verify(invoice()), sleep
    finally:
        verifier.close()


# --- the form ----------------------------------------------------------------------------


def test_the_request_is_003s_form_with_the_types_total(exocr: FakeExocr) -> None:
    verify(exocr)
    assert exocr.calls == [
        {
            "app_key": APP_KEY,
            "app_secret": APP_SECRET,
            "invoice_type": "01",  # request code of 增值税专用发票
            "invoice_no": NUMBER,
            "invoice_code": "3100231130",
            "total": "100.00",  # 01: 开具金额(不含税)
            "create_date": "20240506",
        }
    ]


# --- every code -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "status", "code", "problem", "calls", "retry_at"),
    [
        (result(1), "Y", "1", None, 1, None),
        (error(3204), "F", "3204", None, 1, None),
        (error(3207), "F", "3207", None, 1, None),
        (error(3210), "F", "3210", None, 1, None),
        (error(4001), "F", "4001", None, 1, None),
        (result(6), "F", "6", None, 1, None),
        (result(9), "F", "9", None, 1, None),
        (result(105), "F", "105", None, 1, None),
        (error(4002), "C", "4002", Problem.INTERNAL, 1, LATER),  # the hub's credentials
        (result(2), "C", "2", None, 1, dt.datetime(2024, 6, 2, tzinfo=SHANGHAI)),
        (error(3202), "C", "3202", None, 3, LATER),
        (error(3213), "C", "3213", None, 3, LATER),
        (error(4007), "C", "4007", None, 3, LATER),
        (result(7), "C", "7", None, 3, LATER),
        (result(8), "C", "8", None, 3, LATER),
    ],
)
def test_each_code_leads_to_its_status_retry_or_deferral(
    exocr: FakeExocr,
    answer: Any,
    status: str,
    code: str,
    problem: Problem | None,
    calls: int,
    retry_at: dt.datetime | None,
) -> None:
    outcome, sleep = verify(exocr, answer)
    assert (outcome.status, outcome.code, outcome.problem) == (status, code, problem)
    assert outcome.provider_calls == calls == exocr.calls_for(NUMBER)
    assert outcome.retry_at == retry_at
    assert outcome.source is Source.PROVIDER
    assert sleep.sleeps == [0.5, 1.0][: calls - 1]  # jittered exponential backoff
    if status != "Y":
        assert outcome.reason  # exocr's description, or the catalogue's message


def test_a_retry_that_succeeds_ends_verified(exocr: FakeExocr) -> None:
    outcome, sleep = verify(exocr, error(3213), result(7), result(1))
    assert (outcome.status, outcome.provider_calls, len(sleep.sleeps)) == ("Y", 3, 2)


def test_a_verified_but_void_invoice_is_f(exocr: FakeExocr) -> None:
    data = vat_data({"invoice_no": NUMBER}, cancel_flag="Y", inv_status="0")
    outcome, _ = verify(exocr, result(1, data))
    assert outcome.status is InvoiceStatus.CHECK_FAILED
    assert outcome.check is not None and outcome.check.success and outcome.check.cancelled
    assert "作废" in (outcome.reason or "")


@pytest.mark.parametrize(
    ("inv_status", "state"),
    [
        ("10", InvoiceState.VOID),
        ("20", InvoiceState.RED_LETTER),
        ("30", InvoiceState.RED_REVERSED),
        ("40", InvoiceState.PARTLY_RED_REVERSED),
        ("50", InvoiceState.FULLY_RED_REVERSED),
    ],
)
def test_red_letter_states_are_f(exocr: FakeExocr, inv_status: str, state: InvoiceState) -> None:
    outcome, _ = verify(exocr, result(1, vat_data({"invoice_no": NUMBER}, inv_status=inv_status)))
    assert outcome.status is InvoiceStatus.CHECK_FAILED
    assert outcome.check is not None and outcome.check.state is state


# --- failures of the network and of exocr -------------------------------------------------


def test_a_timeout_storm_ends_in_c_with_a_retry_time(exocr: FakeExocr) -> None:
    outcome, _ = verify(exocr, slow(0.5), read_timeout=0.1)
    assert (outcome.status, outcome.problem) == ("C", Problem.UPSTREAM_UNAVAILABLE)
    assert outcome.retry_at == LATER
    assert outcome.provider_calls == 3 == exocr.calls_for(NUMBER)
    assert "timed out" in (outcome.reason or "")


def test_a_5xx_storm_ends_in_c_with_a_retry_time(exocr: FakeExocr) -> None:
    outcome, _ = verify(exocr, raw(503, "<html>Service Unavailable</html>"))
    assert (outcome.status, outcome.problem, outcome.retry_at) == (
        "C",
        Problem.UPSTREAM_UNAVAILABLE,
        LATER,
    )
    assert exocr.calls_for(NUMBER) == 3


@pytest.mark.parametrize("body", ['{"result": {"desc"', "", "[1, 2]", "null"])
def test_broken_json_is_retried_then_deferred(exocr: FakeExocr, body: str) -> None:
    outcome, _ = verify(exocr, raw(200, body))
    assert (outcome.status, outcome.provider_calls) == ("C", 3)
    assert outcome.retry_at == LATER


def test_a_5xx_then_an_answer_is_verified(exocr: FakeExocr) -> None:
    outcome, _ = verify(exocr, raw(502, "bad gateway"), result(1))
    assert (outcome.status, outcome.provider_calls) == ("Y", 2)


def test_a_5xx_with_a_003_body_is_read_by_its_code(exocr: FakeExocr) -> None:
    outcome, _ = verify(exocr, error(4001, status=500))
    assert (outcome.status, outcome.code, outcome.provider_calls) == ("F", "4001", 1)


def test_a_wrong_url_is_the_hubs_fault_and_not_retried(exocr: FakeExocr) -> None:
    verifier = ExocrVerifier(
        f"{exocr.url}/wrong/path", static_credentials(APP_KEY, APP_SECRET), clock=lambda: NOW
    )
    outcome = verifier.verify(invoice())
    assert (outcome.status, outcome.problem, outcome.provider_calls) == ("C", Problem.INTERNAL, 1)


def test_an_unreachable_exocr_is_deferred_never_raised() -> None:
    with FakeExocr() as gone:
        url = gone.url
    verifier = ExocrVerifier(
        f"{url}/data/v1/verify_invoice",
        static_credentials(APP_KEY, APP_SECRET),
        clock=lambda: NOW,
        sleep=lambda _: None,
    )
    outcome = verifier.verify(invoice())
    assert (outcome.status, outcome.problem, outcome.provider_calls) == (
        "C",
        Problem.UPSTREAM_UNAVAILABLE,
        3,
    )


def test_the_time_budget_stops_retries_early(exocr: FakeExocr) -> None:
    started = time.monotonic()
    outcome, _ = verify(
        exocr, slow(0.5), read_timeout=0.2, attempts=10, budget_seconds=0.5, jitter=lambda: 0.0
    )
    assert time.monotonic() - started < 1.0
    assert outcome.status is InvoiceStatus.AWAITING_CHECK
    assert 2 <= outcome.provider_calls <= 3  # not 10: the last one gets what time is left


def test_wrong_credentials_answer_4002_from_exocr_itself(exocr: FakeExocr) -> None:
    verifier = ExocrVerifier(
        f"{exocr.url}/data/v1/verify_invoice",
        static_credentials(APP_KEY, "not-the-secret"),
        clock=lambda: NOW,
    )
    outcome = verifier.verify(invoice())
    assert (outcome.status, outcome.code, outcome.problem) == ("C", "4002", Problem.INTERNAL)


def test_unknown_fields_from_exocr_are_tolerated(exocr: FakeExocr) -> None:
    data = vat_data({"invoice_no": NUMBER}, new_field="x", detail_list=[{"name": "a", "new": 1}])
    answer = result(1, data)
    payload = answer.body.replace(b'"version": null', b'"version": null, "trace": "t"')
    outcome, _ = verify(exocr, raw(200, payload))
    assert outcome.status is InvoiceStatus.VERIFIED
    parsed, dropped = parse_verify_response(
        {"error_code": 0, "extra": 1, "result": {"result_code": 1, "data": data}}
    )
    assert dropped == ["extra", "result.data.new_field", "result.data.detail_list[0].new"]
    assert parsed.result is not None and parsed.result.result_code == 1


# --- the spec's example --------------------------------------------------------------------


def test_the_fake_serves_003s_response_example_verbatim(specs_dir: Any) -> None:
    from contract.spec_examples import examples

    assert examples("003") == [EXAMPLE]


def test_the_003_example_maps_to_receipt_check_field_by_field(exocr: FakeExocr) -> None:
    exocr.script(NUMBER, example())
    verifier, _ = make_verifier(exocr)
    asked = invoice(
        invoice_type=T.VAT_ELECTRONIC_SPECIAL,
        invoice_code="044031900113",
        receipt_date=dt.date(2021, 1, 21),
        amount=D("1300.00"),
    )
    outcome = verifier.verify(asked)
    # Verified, and red-reversed (inv_status 30): F, with the tax authority's data.
    assert (outcome.status, outcome.code) == ("F", "1")
    assert outcome.reason == "发票已红冲 (reversed by a red-letter invoice)"
    assert outcome.check is not None
    assert outcome.check.state is InvoiceState.RED_REVERSED
    assert outcome.check.verify_count == 1113

    assert to_receipt_check(outcome.check).model_dump(mode="python") == {
        "result": 1,
        "error": None,
        "message": "查验成功",
        "check_date": "2023-10-17T13:09:47.000Z",  # 21:09:47 in Shanghai
        "invoice_type": "08",  # 增值税电子专用发票 (exocr 90) in the platform's codes
        "invoice_code": "########",
        "invoice_num": "######",
        "receipt_date": "2021-01-21T00:00:00.000Z",
        "check_code": "############",
        "total_amount": D("1417.00"),
        "amount": D("1300.00"),
        "tax_amount": D("117.00"),
        "remark": None,  # note ""
        "buyer_name": "海口############有限公司",
        "buyer_tax_code": "##########",
        "buyer_address_phone": "海南省#########",
        "buyer_account": "工行海口市#######",
        "seller_name": "海口######有限公司",
        "seller_tax_code": "########",
        "seller_address_phone": "海南省海口市#####",
        "seller_account": "工行琼山支行#######",
        "cancellation_mark": "N",  # cancel_flag N; 红冲 is not 作废
        "repeat_flag": None,
        "detail_list": [
            {
                "name": "*水果*橙",
                "specification": None,
                "unit": "kg",
                "total_amount": D("1417.00"),
                "amount": D("1300.00"),
                "tax_amount": D("117.00"),
                "price": D("13.00"),
                "quantity": D("100"),
                "tax_rate": D("0.09"),
            }
        ],
    }
    check_result = to_check_result(outcome.check).model_dump(mode="python", by_alias=True)
    assert check_result["result"] == 1
    assert check_result["receiptDate"] == 1611187200000  # 2021-01-21 00:00 UTC
    assert (check_result["totalAmount"], check_result["amount"]) == (D("1417.00"), D("1300.00"))
    assert check_result["cancellationMark"] == "N"


# --- every per-type schema ---------------------------------------------------------------


SCHEMAS: list[tuple[str, InvoiceType, dict[str, Any], dict[str, Any]]] = [
    (
        "roll",
        T.VAT_ROLL,
        {
            "invoice_type": "60",
            "receiver": "张三",
            "cancel_flag": "N",
            "total": "10.00",
            "total_tax": "0.30",
            "amount": "10.30",
            "seller_tax_no": "91110000600037341L",
            "detail_list": [
                {"item": "餐费", "count": "1", "unit_prcie": "10.30", "amount": "10.30"}
            ],
        },
        {"amount": D("10.30"), "seller_tax_code": "91110000600037341L"},
    ),
    (
        "motor_vehicle",
        T.MOTOR_VEHICLE,
        {
            "invoice_type": "50",
            "tounit_name": "某汽车销售有限公司",
            "seller_tax_no": "91110000600037341L",
            "engine_no": "E1",
            "total": "100000.00",
            "zztax": "13000.00",
            "zztax_rate": "13",
            "amount": "113000.00",
            "inv_status": "0",
            "cancel_flag": "N",
        },
        {"amount": D("113000.00"), "seller_name": "某汽车销售有限公司"},
    ),
    (
        "used_car",
        T.USED_CAR,
        {
            "invoice_type": "70",
            "selier_name": "李四",
            "selier_id": "11010519491231002X",
            "car_no": "LVSHFFAL0AF000001",
            "total": "50000.00",
            "Used_car_market": "某二手车市场",
            "Usedcar_matker_phone": "010-1234567",
            "inv_status": "0",
            "cancel_flag": "N",
        },
        {"total_amount": D("50000.00"), "seller_name": "李四"},
    ),
    (
        "toll",
        T.VAT_ELECTRONIC_TOLL,
        {
            "invoice_type": "80",
            "equio_no": "D1",
            "txf_flag": "Y",
            "total": "97.09",
            "total_tax": "2.91",
            "amount": "100.00",
            "inv_status": "0",
            "cancel_flag": "N",
            "detail_list": [
                {
                    "name": "通行费",
                    "license_type": "京A12345",
                    "txr_from": "20240501",
                    "total": "97.09",
                }
            ],
        },
        {"amount": D("100.00"), "seller_name": None},
    ),
    (
        "rail",
        T.DIGITAL_RAIL,
        {
            "buyer_tax_no": "上海某某科技有限公司",  # 003 swaps the two descriptions
            "buyer_name": "91310000MA1FL8XQ37",
            "station_from": "北京南",
            "station_to": "上海虹桥",
            "train_no": "G1",
            "departure_time": "09:00",
            "total": "509.17",
            "total_tax": "45.83",
            "amount": "555.00",
            "inv_status": "0",
            "cancel_flag": "N",
        },
        {"amount": D("555.00"), "buyer_name": "上海某某科技有限公司"},
    ),
    (
        "flight",
        T.DIGITAL_FLIGHT,
        {
            "domestic_or_intl": "国内",
            "gp_no": "",
            "name": "王五",
            "total_tax": "50.00",
            "amount": "1050.00",
            "inv_status": "10",  # void
            "cancel_flag": "Y",
            "detail_list": [{"from": "PEK", "to": "SHA", "flight_no": "CA1501", "carrier": "CA"}],
        },
        {"amount": D("1050.00"), "buyer_name": None},
    ),
]


@pytest.mark.parametrize(
    ("kind", "invoice_type", "data", "expected"), SCHEMAS, ids=[s[0] for s in SCHEMAS]
)
def test_every_per_type_schema_maps_into_receipt_check_and_check_result(
    exocr: FakeExocr,
    kind: str,
    invoice_type: InvoiceType,
    data: dict[str, Any],
    expected: dict[str, Any],
) -> None:
    common = {"invoice_no": NUMBER, "create_date": "20240506", "verify_date": "2024-05-07 08:00:00"}
    exocr.script(NUMBER, result(1, {**common, **data}))
    verifier, _ = make_verifier(exocr)
    asked = Invoice(
        invoice_type=invoice_type,
        invoice_number=NUMBER,
        receipt_date=dt.date(2024, 5, 6),
        amount=D("1"),
        total_amount=D("1"),
        check_code="123456",
    )
    outcome = verifier.verify(asked)
    assert outcome.check is not None
    receipt = to_receipt_check(outcome.check)
    check_result = to_check_result(outcome.check)
    assert receipt.result == check_result.result == 1
    assert receipt.invoice_num == check_result.invoice_num == NUMBER
    assert receipt.receipt_date == "2024-05-06T00:00:00.000Z"
    assert receipt.check_date == "2024-05-07T00:00:00.000Z"
    for field, value in expected.items():
        wire = {"amount": "total_amount"}.get(field, field)
        if field == "amount":
            assert receipt.total_amount == check_result.total_amount == value
        else:
            assert getattr(receipt, wire) == getattr(check_result, wire) == value
    void = data.get("cancel_flag") == "Y"
    assert receipt.cancellation_mark == check_result.cancellation_mark == ("Y" if void else "N")
    assert outcome.status == ("F" if void else "Y")


# --- credentials never in logs -----------------------------------------------------------


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """Everything the hub and httpx log, through Powertools' JSON formatter, at DEBUG."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(LambdaPowertoolsFormatter())
    loggers = [logging.getLogger(name) for name in ("fapiao", "httpx", "httpcore")]
    saved = [(lg.level, lg.propagate) for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    yield buffer
    for lg, (level, propagate) in zip(loggers, saved, strict=True):
        lg.removeHandler(handler)
        lg.setLevel(level)
        lg.propagate = propagate


def test_credentials_never_appear_in_logs(
    exocr: FakeExocr, log_output: io.StringIO, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for answers in (
        [result(1)],
        [error(3213), result(7), raw(500, "oops")],
        [raw(200, "{broken")],
        [slow(0.3)],
        [error(4002)],
        [raw(404, "nope")],
    ):
        outcome, _ = verify(exocr, *answers, read_timeout=0.1)
        assert APP_SECRET not in repr(outcome) and APP_SECRET not in outcome.model_dump_json()
    refused = ExocrVerifier(
        f"{exocr.url}/data/v1/verify_invoice",
        static_credentials(APP_KEY, APP_SECRET + "-wrong"),
        clock=lambda: NOW,
    )
    refused.verify(invoice())
    logged = log_output.getvalue() + caplog.text
    assert "exocr answered" in logged and "exocr timed out" in logged  # the capture works
    assert '"alarm":"exocr_credentials"' in log_output.getvalue()
    assert "HTTP Request: POST" in logged  # httpx's own log is captured too
    for secret in (APP_SECRET, APP_KEY, "app_secret="):
        assert secret not in logged
    assert APP_SECRET not in repr(refused)


def test_credentials_are_masked_in_their_repr() -> None:
    credentials = static_credentials(APP_KEY, APP_SECRET)()
    assert APP_SECRET not in repr(credentials) and APP_KEY not in repr(credentials)


def test_a_client_can_be_injected(exocr: FakeExocr) -> None:
    with httpx.Client() as client:
        verifier = ExocrVerifier(
            f"{exocr.url}/data/v1/verify_invoice",
            static_credentials(APP_KEY, APP_SECRET),
            client=client,
            clock=lambda: NOW,
        )
        assert verifier.verify(invoice()).status is InvoiceStatus.VERIFIED
