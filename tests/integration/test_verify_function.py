"""functions/verify/app.py: the exocr-shaped endpoint and the pipeline task, with moto
in process (DynamoDB, Secrets Manager) and the fake exocr on loopback.

Events are built by ``fapiao.local.apigw.to_event``, as the local hub builds them.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import secrets
from collections.abc import Iterator
from decimal import Decimal
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from moto import mock_aws

from fakes.exocr_server import APP_KEY, APP_SECRET, FakeExocr, error, raw, result
from fakes.memory import MemoryVerificationCache
from fapiao import aws
from fapiao.catalogue.types import InvoiceType
from fapiao.dates import SHANGHAI, now_in_shanghai
from fapiao.local.apigw import HttpRequest, LambdaContext, to_event
from fapiao.local.template import Route, Template, TemplateError
from fapiao.model import Invoice
from fapiao.ports import VerificationCache
from fapiao.providers import factory
from fapiao.providers.exocr import ExocrVerifier
from fapiao.results import CachedVerification, Source, Verification
from fapiao.store.verifications import DynamoKnownInvoices, DynamoVerificationCache
from support import REGION, TEMPLATE, handler_module

ROUTE = Route("POST", "/data/v1/verify_invoice", "VerifyFunction")
FORM = "application/x-www-form-urlencoded"

# The table the template is to declare (the snippet handed to the lead); the test reads
# the template's own once it is there.
VERIFICATIONS_TABLE: dict[str, Any] = {
    "BillingMode": "PAY_PER_REQUEST",
    "AttributeDefinitions": [{"AttributeName": "invoice_key", "AttributeType": "S"}],
    "KeySchema": [{"AttributeName": "invoice_key", "KeyType": "HASH"}],
    "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
}


def table_properties(logical_id: str, fallback: dict[str, Any] | None = None) -> dict[str, Any]:
    try:
        return Template(TEMPLATE).table(logical_id).properties
    except TemplateError:
        assert fallback is not None, f"template.yaml has no {logical_id}"
        return fallback


def create_table(name: str, properties: dict[str, Any]) -> None:
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=properties["AttributeDefinitions"],
        KeySchema=properties["KeySchema"],
        **(
            {"GlobalSecondaryIndexes": properties["GlobalSecondaryIndexes"]}
            if "GlobalSecondaryIndexes" in properties
            else {}
        ),
    )
    ttl = properties.get("TimeToLiveSpecification")
    if ttl:
        dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)


@pytest.fixture(scope="module")
def exocr() -> Iterator[FakeExocr]:
    with FakeExocr() as fake:
        yield fake


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch, exocr: FakeExocr) -> Iterator[str]:
    """moto in process with the two tables and the exocr secret; the secret's name."""
    exocr.calls.clear()
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "POWERTOOLS_SERVICE_NAME": "fapiao",
        "POWERTOOLS_METRICS_NAMESPACE": "Fapiao",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    secret_name = f"fapiao/exocr-{secrets.token_hex(4)}"  # Powertools caches by name
    with mock_aws():
        aws.client.cache_clear()
        create_table(
            "VerificationsTable", table_properties("VerificationsTable", VERIFICATIONS_TABLE)
        )
        create_table("InvoicesTable", table_properties("InvoicesTable"))
        boto3.client("secretsmanager").create_secret(
            Name=secret_name,
            SecretString=json.dumps({"app_key": APP_KEY, "app_secret": APP_SECRET}),
        )
        yield secret_name
        aws.client.cache_clear()


def load_function(monkeypatch: pytest.MonkeyPatch, **env: str) -> ModuleType:
    """VerifyFunction's module imported afresh, as a cold start with ``env``."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return handler_module("VerifyFunction")


@pytest.fixture
def function(monkeypatch: pytest.MonkeyPatch, cloud: str, exocr: FakeExocr) -> ModuleType:
    module = load_function(
        monkeypatch,
        FAPIAO_VERIFIER="exocr",
        FAPIAO_EXOCR_URL=exocr.url,
        FAPIAO_EXOCR_SECRET_NAME=cloud,
        FAPIAO_EXOCR_READ_TIMEOUT="0.2",
        FAPIAO_VERIFICATION_TABLE="VerificationsTable",
        FAPIAO_INVOICES_TABLE="InvoicesTable",
    )
    # The layer's own wiring, with backoff that does not really sleep.
    monkeypatch.setattr(
        factory,
        "build_verifier",
        lambda settings: ExocrVerifier.from_settings(settings, sleep=lambda _: None),
    )
    return module


def post(
    function: ModuleType, fields: dict[str, str] | str, content_type: str = FORM
) -> tuple[int, dict[str, str], dict[str, Any]]:
    body = fields if isinstance(fields, str) else urlencode(fields)
    request = HttpRequest(
        "POST", ROUTE.path, "", [("Content-Type", content_type)], body.encode("utf-8")
    )
    reply = function.lambda_handler(to_event(request, ROUTE, {}), LambdaContext("VerifyFunction"))
    headers = {k.lower(): v for k, v in (reply.get("headers") or {}).items()}
    for name, values in (reply.get("multiValueHeaders") or {}).items():
        headers[name.lower()] = values[-1]
    return reply["statusCode"], headers, json.loads(reply["body"])


def form(number: str = "00012345", **fields: str) -> dict[str, str]:
    base = {
        "app_key": "caller-key",
        "app_secret": "caller-secret-4d2f",
        "invoice_type": "01",
        "invoice_no": number,
        "invoice_code": "3100231130",
        "total": "100.00",
        "create_date": "20240506",
    }
    base.update(fields)
    return base


def is_003_envelope(body: dict[str, Any]) -> None:
    assert set(body) == {
        "result",
        "error_code",
        "description",
        "request_id",
        "recognize_time",
        "available_count",
        "version",
    }


# --- the endpoint ------------------------------------------------------------------------


def test_verify_invoice_answers_003s_envelope_and_pays_once(
    function: ModuleType, exocr: FakeExocr
) -> None:
    status, _, body = post(function, form())
    is_003_envelope(body)
    assert (status, body["error_code"], body["result"]["result_code"]) == (200, 0, 1)
    assert body["result"]["data"]["invoice_no"] == "00012345"
    assert body["result"]["data"]["total"] == "100.00"  # money as 003's text, exact
    status, _, again = post(function, form())
    assert again["result"]["result_code"] == 1
    assert exocr.calls_for("00012345") == 1  # the second answer came from DynamoDB


def test_the_hub_asks_exocr_with_its_own_credentials_not_the_callers(
    function: ModuleType, exocr: FakeExocr
) -> None:
    post(function, form("00022222", check_code_last6="654321"))
    (call,) = exocr.calls
    assert (call["app_key"], call["app_secret"]) == (APP_KEY, APP_SECRET)
    assert call["check_code_last6"] == "654321"


@pytest.mark.parametrize(
    ("fields", "content_type", "word"),
    [
        ({k: v for k, v in form().items() if k != "invoice_no"}, FORM, "invoice_no"),
        (form(invoice_type="99"), FORM, "99"),
        (form(create_date="2024-13-40"), FORM, "2024-13-40"),
        (form(total="abc"), FORM, "total"),
        ('{"invoice_no": "1"}', "application/json", "Content-Type"),
    ],
)
def test_a_bad_form_is_4001_in_003s_envelope(
    function: ModuleType, exocr: FakeExocr, fields: Any, content_type: str, word: str
) -> None:
    status, _, body = post(function, fields, content_type)
    is_003_envelope(body)
    assert (status, body["error_code"], body["result"]) == (400, 4001, None)
    assert body["description"].startswith("参数非法,请重试")
    assert word in body["description"]
    assert "caller-secret-4d2f" not in json.dumps(body, ensure_ascii=False)
    assert "Traceback" not in body["description"]
    assert exocr.calls == []


def test_an_invoice_failing_an_offline_check_answers_its_code_without_paying(
    function: ModuleType, exocr: FakeExocr
) -> None:
    status, _, body = post(function, form(invoice_code="3100231330"))  # an ordinary code
    assert (status, body["error_code"]) == (400, 3204)
    assert "3100231330" in body["description"]  # the finding, not the rule's name
    assert "invoice_code_matches_type" not in body["description"]
    assert exocr.calls == []


def test_a_5xx_storm_answers_3202_with_retry_after(function: ModuleType, exocr: FakeExocr) -> None:
    exocr.script("00033333", raw(503, "busy"))
    status, headers, body = post(function, form("00033333"))
    assert (status, body["error_code"]) == (502, 3202)
    assert 290 <= int(headers["retry-after"]) <= 300
    assert exocr.calls_for("00033333") == 3


def test_the_daily_cap_answers_result_2_until_midnight(
    function: ModuleType, exocr: FakeExocr
) -> None:
    exocr.script("00044444", result(2))
    status, headers, body = post(function, form("00044444"))
    assert (status, body["error_code"], body["result"]["result_code"]) == (200, 0, 2)
    now = now_in_shanghai()
    midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), SHANGHAI)
    assert abs(int(headers["retry-after"]) - (midnight - now).total_seconds()) < 5
    post(function, form("00044444"))
    assert exocr.calls_for("00044444") == 1  # deferred in the cache: not asked again today


def test_refused_hub_credentials_are_4007_not_the_callers_4002(
    function: ModuleType, exocr: FakeExocr
) -> None:
    exocr.script("00055555", error(4002))
    status, _, body = post(function, form("00055555"))
    assert (status, body["error_code"]) == (503, 4007)


def test_a_multipart_form_is_accepted(function: ModuleType) -> None:
    boundary = "XyZ"
    parts = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in form("00066666").items()
    )
    status, _, body = post(
        function, parts + f"--{boundary}--\r\n", f"multipart/form-data; boundary={boundary}"
    )
    assert (status, body["result"]["result_code"]) == (200, 1)


def test_an_unexpected_failure_is_4007_in_003s_envelope(
    function: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr("fapiao.services.verify.verify_invoice", explode)
    status, _, body = post(function, form())
    is_003_envelope(body)
    assert (status, body["error_code"]) == (503, 4007)
    assert "boom" not in body["description"]


def test_without_a_provider_the_endpoint_answers_3202(
    monkeypatch: pytest.MonkeyPatch, cloud: str, exocr: FakeExocr
) -> None:
    monkeypatch.delenv("FAPIAO_VERIFIER", raising=False)
    function = load_function(monkeypatch, FAPIAO_VERIFICATION_TABLE="VerificationsTable")
    status, headers, body = post(function, form())
    assert (status, body["error_code"]) == (502, 3202)
    assert "FAPIAO_VERIFIER=offline" in body["description"]
    assert "retry-after" not in headers
    assert exocr.calls == []


def test_credentials_from_secrets_manager_never_reach_the_logs(
    function: ModuleType, exocr: FakeExocr, caplog: pytest.LogCaptureFixture
) -> None:
    exocr.script("00077777", error(3213), result(1))
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(LambdaPowertoolsFormatter())  # what the function's Logger writes
    service = logging.getLogger("fapiao")  # POWERTOOLS_SERVICE_NAME: the function's Logger
    service.addHandler(handler)
    caplog.set_level(logging.DEBUG)
    try:
        post(function, form("00077777"))
        post(function, form("00088888", invoice_type="77"))
    finally:
        service.removeHandler(handler)
    logged = buffer.getvalue() + caplog.text
    assert '"message":"verified"' in logged  # the capture works
    assert '"error_code":3213' in logged
    assert exocr.calls_for("00077777") == 2
    for secret in (APP_KEY, APP_SECRET, "caller-secret-4d2f"):
        assert secret not in logged


# --- the Step Functions task ---------------------------------------------------------------


def canonical(number: str, **fields: Any) -> dict[str, Any]:
    invoice = Invoice(
        invoice_type=InvoiceType.VAT_SPECIAL,
        invoice_code="3100231130",
        invoice_number=number,
        receipt_date=dt.date(2024, 5, 6),
        amount=Decimal("100.00"),
        tax_amount=Decimal("13.00"),
        total_amount=Decimal("113.00"),
        **fields,
    )
    return invoice.model_dump(mode="json")


def task(function: ModuleType, event: dict[str, Any]) -> dict[str, Any]:
    output = function.task_handler(event, LambdaContext("VerifyTaskFunction"))
    json.dumps(output)  # what Step Functions gets must be JSON
    return dict(output)


def test_the_task_verifies_a_canonical_invoice(function: ModuleType, exocr: FakeExocr) -> None:
    output = task(function, {"invoice": canonical("00100001")})
    verification = Verification.model_validate(output)
    assert (verification.status, verification.source, verification.provider_calls) == (
        "Y",
        Source.PROVIDER,
        1,
    )
    assert output["check"]["invoice"]["amount"] == "100.00"


def test_the_task_does_not_verify_a_duplicate(function: ModuleType, exocr: FakeExocr) -> None:
    boto3.client("dynamodb").put_item(
        TableName="InvoicesTable", Item={"invoice_key": {"S": "310023113000100002"}}
    )
    output = task(function, {"invoice": canonical("00100002")})
    assert (output["status"], output["problem"], output["source"]) == (
        "F",
        "duplicate_invoice",
        "store",
    )
    assert exocr.calls == []


def test_the_task_defers_on_a_timeout_storm_with_a_utc_retry_time(
    function: ModuleType, exocr: FakeExocr
) -> None:
    exocr.script("00100003", raw(500, "oops"))
    output = task(function, {"invoice": canonical("00100003")})
    assert output["status"] == "C"
    assert output["retry_at"].endswith("Z")
    assert exocr.calls_for("00100003") == 3


def test_the_task_stops_on_a_qr_code_that_disagrees(function: ModuleType, exocr: FakeExocr) -> None:
    output = task(function, {"invoice": canonical("00100004"), "qr": {"invoice_number": "1"}})
    assert (output["status"], output["source"]) == ("F", "offline_checks")
    assert exocr.calls == []


def test_the_task_refuses_input_that_is_not_an_invoice(function: ModuleType) -> None:
    with pytest.raises(function.InvalidTaskInput, match="invoice"):
        task(function, {"invoice": {"invoice_type": "no such type"}})
    with pytest.raises(function.InvalidTaskInput):
        task(function, {})


# --- the cache adapters share one contract -----------------------------------------------


@pytest.fixture(params=["memory", "dynamodb"])
def cache(request: pytest.FixtureRequest, cloud: str) -> VerificationCache:
    if request.param == "memory":
        return MemoryVerificationCache()
    return DynamoVerificationCache("VerificationsTable")


def _record(key: str, status: str = "Y") -> CachedVerification:
    now = dt.datetime(2024, 6, 1, 10, tzinfo=SHANGHAI)
    verification = Verification(
        invoice_key=key,
        status=status,
        source=Source.PROVIDER,
        code="1",
        retry_at=None if status != "C" else now + dt.timedelta(hours=1),
    )
    return CachedVerification(
        invoice_key=key, verification=verification, question="q", stored_at=now
    )


def test_cache_contract_get_and_put(cache: VerificationCache) -> None:
    assert cache.get("k1") is None
    cache.put(_record("k1", "C"))
    cache.put(_record("k1", "Y"))  # replaces
    stored = cache.get("k1")
    assert stored == _record("k1", "Y")


def test_cache_contract_one_lease_at_a_time(cache: VerificationCache) -> None:
    now = dt.datetime(2024, 6, 1, 10, tzinfo=SHANGHAI)
    later = now + dt.timedelta(seconds=60)
    token = cache.claim("k2", now, later)
    assert token is not None
    assert cache.claim("k2", now + dt.timedelta(seconds=30), later) is None
    cache.release("k2", "not-the-token")  # only the holder gives it back
    assert cache.claim("k2", now + dt.timedelta(seconds=30), later) is None
    cache.release("k2", token)
    assert cache.claim("k2", now, later) is not None
    assert cache.claim("k3", now, later) is not None  # another invoice is free
    assert cache.get("k2") is None  # a lease is not a record


def test_cache_contract_an_expired_lease_can_be_taken(cache: VerificationCache) -> None:
    now = dt.datetime(2024, 6, 1, 10, tzinfo=SHANGHAI)
    assert cache.claim("k4", now, now + dt.timedelta(seconds=60)) is not None
    assert cache.claim("k4", now + dt.timedelta(seconds=61), now + dt.timedelta(seconds=121))


def test_known_invoices_reads_the_invoices_table(cloud: str) -> None:
    known = DynamoKnownInvoices("InvoicesTable")
    assert not known.exists("k5")
    boto3.client("dynamodb").put_item(TableName="InvoicesTable", Item={"invoice_key": {"S": "k5"}})
    assert known.exists("k5")


def test_a_record_waiting_for_completion_is_not_known(cloud: str) -> None:
    """A complete reading of an invoice read too incompletely before must be verified:
    the create step then completes the record (same owner) or refuses it (another)."""
    known = DynamoKnownInvoices("InvoicesTable")
    boto3.client("dynamodb").put_item(
        TableName="InvoicesTable",
        Item={"invoice_key": {"S": "k6"}, "message_code": {"S": "907010"}},
    )
    assert not known.exists("k6")
    boto3.client("dynamodb").put_item(
        TableName="InvoicesTable",
        Item={"invoice_key": {"S": "k7"}, "message_code": {"S": "907001"}},
    )
    assert known.exists("k7")


def test_cache_contract_a_lease_knows_whether_one_was_held_before(
    cache: VerificationCache,
) -> None:
    """A verification that finds no answer and then the invoice's first lease need not
    look again: answers are written under a lease, and a given-back lease is kept."""
    now = dt.datetime(2024, 6, 1, 10, tzinfo=SHANGHAI)
    first = cache.claim("k5", now, now + dt.timedelta(seconds=60))
    assert first is not None and first.first
    cache.release("k5", first)

    again = cache.claim("k5", now, now + dt.timedelta(seconds=60))
    assert again is not None and not again.first  # someone may have answered meanwhile
    expired = cache.claim("k5", now + dt.timedelta(seconds=61), now + dt.timedelta(seconds=121))
    assert expired is not None and not expired.first
    assert cache.get("k5") is None  # a lease is still not a record
