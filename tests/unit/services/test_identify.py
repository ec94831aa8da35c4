"""The async identify API (spec 004 served by the hub) with in-memory adapters: the use
case, its Step Functions adapter (stubbed client), the handler's envelopes, and the S3
drop function leaving identify objects alone."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
from decimal import Decimal
from types import ModuleType
from typing import Any

import aws_xray_sdk.core  # noqa: F401  (its UDP emitter opens a socket at import: before the guard)
import boto3
import pytest
from botocore.stub import Stubber
from fixtures.generate import invoice_pdf
from fixtures.served import recent_invoice
from PIL import Image

from fakes.memory import MemoryExecutions
from fapiao.catalogue.errors import HubError, Problem
from fapiao.catalogue.types import InvoiceType, to_yipiaoyun_code
from fapiao.mapping.yipiaoyun import to_identify_result
from fapiao.model import Invoice
from fapiao.model.pipeline import DroppedObject, ExecutionStatus, Found, Recognized
from fapiao.recognize import FileKind, recognize
from fapiao.services.identify import (
    MAX_DOWNLOAD_BYTES,
    MAX_UPLOAD_BYTES,
    IdentifyDeps,
    IdentifyState,
    identify_result,
    in_004_vocabulary,
    safe_file_name,
    submit_file,
    submit_url,
)
from fapiao.settings import HubSettings
from fapiao.store.executions import StepFunctionsExecutions, execution_arn
from support import handler_module

MACHINE = "arn:aws-cn:states:cn-north-1:123456789012:stateMachine:IngestStateMachine"
SPEC = recent_invoice(41)
PDF = invoice_pdf(SPEC)


def png(width: int = 64, height: int = 48) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(buffer, "PNG")
    return buffer.getvalue()


GIF = b"GIF89a" + b"\x00" * 64
OFD = b"PK\x03\x04" + b"\x00" * 64


class MemoryUploads:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def put(self, key: str, data: bytes) -> DroppedObject:
        self.files[key] = data
        return DroppedObject(bucket="drop", key=key, etag=hashlib.md5(data).hexdigest())


class World:
    """The use case's adapters, and what the fetcher was asked."""

    def __init__(self, served: dict[str, bytes] | None = None) -> None:
        self.uploads = MemoryUploads()
        self.executions = MemoryExecutions()
        self.served = served or {}
        self.fetched: list[tuple[str, int]] = []
        self.ids = iter(f"{n:032x}" for n in range(1, 100))

    def fetch(self, url: str, max_bytes: int) -> bytes:
        self.fetched.append((url, max_bytes))
        if url not in self.served:
            raise HubError(Problem.FILE_UNREACHABLE, "nothing there")
        if len(self.served[url]) > max_bytes:
            raise HubError(Problem.FILE_TOO_LARGE, f"the file is larger than {max_bytes} bytes")
        return self.served[url]

    @property
    def deps(self) -> IdentifyDeps:
        return IdentifyDeps(
            uploads=self.uploads,
            executions=self.executions,
            fetch=self.fetch,
            new_id=lambda: next(self.ids),
        )

    def run_ingest(self, identify_id: str) -> None:
        """What the state machine does with an identify object: recognize it, succeed
        with the recognize task's output (plus the Map's outcomes)."""
        obj = self.executions.started[identify_id]
        found = [
            Found(status=r.status, invoice=r.invoice, reason=r.reason, page=r.page)
            for r in recognize(self.uploads.files[obj.key])
        ]
        output = Recognized(object=obj, mode="identify", invoices=found).model_dump(mode="json")
        output["outcomes"] = [{"outcome": "identified"}]
        # through JSON as Step Functions carries it, numbers with a fraction as Decimal
        carried = json.loads(json.dumps(output), parse_float=Decimal)
        self.executions.finish(identify_id, ExecutionStatus.SUCCEEDED, carried)


# --- submissions -----------------------------------------------------------------------


def test_a_file_is_stored_under_its_identify_id_and_starts_the_execution_named_by_it() -> None:
    world = World()
    world.ids = iter(["3c35fc8eb3b2466397c5d3abd580730c"])
    identify_id = submit_file("发票 2024.pdf", PDF, world.deps)
    assert identify_id == "3c35fc8eb3b2466397c5d3abd580730c"
    key = f"identify/{identify_id}/发票_2024.pdf"
    assert world.uploads.files == {key: PDF}
    assert world.executions.started[identify_id].key == key


def test_identify_ids_are_32_lowercase_hex_characters_and_differ() -> None:
    world = World()
    deps = IdentifyDeps(uploads=world.uploads, executions=world.executions, fetch=world.fetch)
    first, second = submit_file("a.png", png(), deps), submit_file("a.png", png(), deps)
    assert first != second
    for identify_id in (first, second):
        assert len(identify_id) == 32
        assert set(identify_id) <= set("0123456789abcdef")


def test_an_upload_of_one_mebibyte_is_taken_and_one_byte_more_is_refused() -> None:
    world = World()
    at_limit = PDF + b"\n%" * ((MAX_UPLOAD_BYTES - len(PDF)) // 2)
    at_limit += b"\n" * (MAX_UPLOAD_BYTES - len(at_limit))
    assert len(at_limit) == MAX_UPLOAD_BYTES
    submit_file("a.pdf", at_limit, world.deps)
    with pytest.raises(HubError) as refused:
        submit_file("b.pdf", at_limit + b"\n", world.deps)
    assert refused.value.problem is Problem.FILE_TOO_LARGE
    assert refused.value.detail is None  # answered with 004's own words: 图片最大支持1M
    assert len(world.uploads.files) == 1
    assert len(world.executions.started) == 1


@pytest.mark.parametrize(
    ("name", "data"),
    [("a.gif", GIF), ("a.ofd", OFD), ("a.pdf", b"not a pdf at all"), ("a.png", GIF)],
)
def test_only_jpeg_png_and_pdf_bytes_are_taken(name: str, data: bytes) -> None:
    world = World()
    with pytest.raises(HubError) as refused:
        submit_file(name, data, world.deps)
    assert refused.value.problem is Problem.UNSUPPORTED_FILE_TYPE
    assert refused.value.detail is None  # 图片文件类型不支持
    assert world.uploads.files == {}
    assert world.executions.started == {}


def test_the_bytes_decide_the_type_not_the_name() -> None:
    world = World()
    identify_id = submit_file("scan.gif", png(), world.deps)
    assert identify_id in world.executions.started


def test_an_empty_upload_is_an_invalid_request() -> None:
    with pytest.raises(HubError) as refused:
        submit_file("a.pdf", b"", World().deps)
    assert refused.value.problem is Problem.INVALID_REQUEST


def test_a_url_is_fetched_with_the_10_mb_cap_and_named_by_its_path() -> None:
    url = "https://files.example/inv/%E5%8F%91%E7%A5%A8.pdf?X-Amz-Signature=secret"
    world = World({url: PDF})
    identify_id = submit_url(f"  {url} ", world.deps)
    assert world.fetched == [(url, MAX_DOWNLOAD_BYTES)]
    assert MAX_DOWNLOAD_BYTES == 10 * 1024 * 1024
    assert list(world.uploads.files) == [f"identify/{identify_id}/发票.pdf"]


def test_a_downloaded_file_may_be_larger_than_an_upload() -> None:
    big = PDF + b"\n" * (2 * MAX_UPLOAD_BYTES)
    world = World({"https://files.example/big.pdf": big})
    identify_id = submit_url("https://files.example/big.pdf", world.deps)
    assert identify_id in world.executions.started


def test_a_refused_url_stores_and_starts_nothing() -> None:
    world = World()
    with pytest.raises(HubError) as refused:
        submit_url("http://10.0.0.1/a.pdf", world.deps)
    assert refused.value.problem is Problem.FILE_UNREACHABLE
    assert world.uploads.files == {}
    assert world.executions.started == {}


def test_an_empty_url_is_refused_before_any_download() -> None:
    world = World()
    with pytest.raises(HubError) as refused:
        submit_url("  ", world.deps)
    assert refused.value.problem is Problem.INVALID_REQUEST
    assert world.fetched == []


def test_a_url_to_a_gif_is_refused_as_004_refuses_it() -> None:
    world = World({"https://files.example/a.gif": GIF})
    with pytest.raises(HubError) as refused:
        submit_url("https://files.example/a.gif", world.deps)
    assert refused.value.problem is Problem.UNSUPPORTED_FILE_TYPE


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\scans\\invoice.PDF", "invoice.PDF"),
        ("发票 1.pdf", "发票_1.pdf"),
        ("", "image.pdf"),
        (None, "image.pdf"),
        ("...", "image.pdf"),
        ("a" * 300 + ".pdf", "a" * 96 + ".pdf"),
    ],
)
def test_file_names_become_one_safe_key_segment(name: str | None, expected: str) -> None:
    assert safe_file_name(name, FileKind.PDF) == expected


# --- results -----------------------------------------------------------------------------


def test_a_running_recognition_is_pending() -> None:
    world = World()
    identify_id = submit_file("a.pdf", PDF, world.deps)
    answer = identify_result(identify_id, world.deps)
    assert answer.state is IdentifyState.PENDING
    assert answer.invoice is None


def test_a_finished_recognition_answers_the_first_invoice() -> None:
    world = World()
    identify_id = submit_file("a.pdf", PDF, world.deps)
    world.run_ingest(identify_id)
    answer = identify_result(identify_id, world.deps)
    assert answer.state is IdentifyState.DONE
    assert answer.invoice is not None
    assert answer.invoice.invoice_number == SPEC.invoice_number
    assert answer.invoice.invoice_code == SPEC.invoice_code
    assert answer.invoice.total_amount == SPEC.total_amount
    assert answer.invoice.buyer_tax_code == SPEC.buyer_tax_code


def test_ids_are_read_the_way_the_hub_writes_them() -> None:
    world = World()
    identify_id = submit_file("a.pdf", PDF, world.deps)
    world.run_ingest(identify_id)
    answer = identify_result(f" {identify_id.upper()} ", world.deps)
    assert answer.state is IdentifyState.DONE


def test_an_unreadable_image_fails_with_the_reason() -> None:
    world = World()
    identify_id = submit_file("a.png", png(), world.deps)
    world.run_ingest(identify_id)
    answer = identify_result(identify_id, world.deps)
    assert answer.state is IdentifyState.FAILED
    assert answer.reason is not None
    assert "QR" in answer.reason
    assert answer.message == f"识别失败: {answer.reason}"
    # the hub's own yipiaoyun adapter must read it as a failure, never as pending
    assert "识别中" not in answer.message


@pytest.mark.parametrize(
    "status", [ExecutionStatus.FAILED, ExecutionStatus.TIMED_OUT, ExecutionStatus.ABORTED]
)
def test_an_execution_that_did_not_succeed_is_a_failure(status: ExecutionStatus) -> None:
    world = World()
    identify_id = submit_file("a.pdf", PDF, world.deps)
    world.executions.finish(identify_id, status, error="IngestFailed", cause="boom")
    answer = identify_result(identify_id, world.deps)
    assert answer.state is IdentifyState.FAILED
    assert answer.reason
    assert "boom" not in answer.message  # internals stay inside


def test_an_execution_being_redriven_is_still_pending() -> None:
    world = World()
    identify_id = submit_file("a.pdf", PDF, world.deps)
    world.executions.finish(identify_id, ExecutionStatus.PENDING_REDRIVE)
    assert identify_result(identify_id, world.deps).state is IdentifyState.PENDING


@pytest.mark.parametrize("output", [{"invoices": []}, {}, None, {"invoices": [{"bad": 1}]}])
def test_an_output_without_a_readable_invoice_is_a_failure(output: dict[str, Any] | None) -> None:
    world = World()
    identify_id = submit_file("a.pdf", PDF, world.deps)
    world.executions.finish(identify_id, ExecutionStatus.SUCCEEDED, output)
    assert identify_result(identify_id, world.deps).state is IdentifyState.FAILED


@pytest.mark.parametrize(
    "identify_id",
    ["0" * 32, "", "3c35fc8eb3b2466397c5d3abd580730", "../../x", "g" * 32, "a" * 33],
)
def test_an_id_without_an_execution_is_not_found(identify_id: str) -> None:
    world = World()
    submit_file("a.pdf", PDF, world.deps)  # some other id exists
    with pytest.raises(HubError) as refused:
        identify_result(identify_id, world.deps)
    assert refused.value.problem is Problem.NOT_FOUND
    assert refused.value.detail is None  # 004's own words: 未查询到对应识别请求


@pytest.mark.parametrize("invoice_type", list(InvoiceType))
def test_every_invoice_type_can_be_answered_in_004s_vocabulary(invoice_type: InvoiceType) -> None:
    invoice = in_004_vocabulary(
        Invoice(invoice_type=invoice_type, invoice_number="12345678", total_amount=Decimal("1"))
    )
    data = to_identify_result(invoice)  # raises for a type 004 has no code for
    assert data.invoiceType == to_yipiaoyun_code(invoice.invoice_type)
    assert data.totalAmount == "1.00"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("invoice_type", "code"),
    [
        (InvoiceType.DIGITAL_SPECIAL, "1000"),
        (InvoiceType.DIGITAL_PAPER_NORMAL, "1001"),
        (InvoiceType.DIGITAL_NORMAL, "1002"),
        (InvoiceType.BLOCKCHAIN, "1002"),
        (InvoiceType.DIGITAL_RAIL, "5001"),
        (InvoiceType.DIGITAL_FLIGHT, "5003"),
        (InvoiceType.VAT_ELECTRONIC_NORMAL, "1002"),  # its own code when 004 has one
        (InvoiceType.TAXI, "5000"),
    ],
)
def test_types_004_lacks_are_answered_as_the_closest_004_type(
    invoice_type: InvoiceType, code: str
) -> None:
    invoice = in_004_vocabulary(Invoice(invoice_type=invoice_type, invoice_number="1"))
    assert to_yipiaoyun_code(invoice.invoice_type) == code


# --- the Step Functions adapter --------------------------------------------------------


def stubbed_executions() -> tuple[StepFunctionsExecutions, Stubber]:
    client = boto3.session.Session(
        aws_access_key_id="t", aws_secret_access_key="t", region_name="cn-north-1"
    ).client("stepfunctions")
    settings = HubSettings(ingest_state_machine=MACHINE)
    return StepFunctionsExecutions(settings, client=client), Stubber(client)


def test_an_execution_arn_is_the_machine_arn_with_the_name() -> None:
    assert execution_arn(MACHINE, "abc") == (
        "arn:aws-cn:states:cn-north-1:123456789012:execution:IngestStateMachine:abc"
    )
    with pytest.raises(ValueError, match="state machine"):
        execution_arn("arn:aws:s3:::bucket", "abc")


def test_the_adapter_reads_an_execution_by_name_with_exact_money() -> None:
    executions, stub = stubbed_executions()
    arn = execution_arn(MACHINE, "a" * 32)
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    stub.add_response(
        "describe_execution",
        {
            "executionArn": arn,
            "stateMachineArn": MACHINE,
            "status": "SUCCEEDED",
            "startDate": now,
            "output": '{"invoices": [{"total": 996.00}]}',
        },
        {"executionArn": arn},
    )
    stub.add_client_error(
        "describe_execution", "ExecutionDoesNotExist", expected_params={"executionArn": arn}
    )
    with stub:
        described = executions.describe("a" * 32)
        assert described is not None
        assert described.status is ExecutionStatus.SUCCEEDED
        assert described.output == {"invoices": [{"total": Decimal("996.00")}]}
        assert str(described.output["invoices"][0]["total"]) == "996.00"
        assert executions.describe("a" * 32) is None


def test_the_adapter_starts_once_per_name() -> None:
    executions, stub = stubbed_executions()
    obj = DroppedObject(bucket="drop", key="identify/x/a.pdf", etag="e")
    expected = {
        "stateMachineArn": MACHINE,
        "name": "x",
        "input": f'{{"object": {obj.model_dump_json()}}}',
    }
    stub.add_response(
        "start_execution",
        {"executionArn": execution_arn(MACHINE, "x"), "startDate": dt.datetime.now(dt.UTC)},
        expected,
    )
    stub.add_client_error("start_execution", "ExecutionAlreadyExists", expected_params=expected)
    with stub:
        assert executions.start("x", obj) is True
        assert executions.start("x", obj) is False


def test_the_fake_keeps_the_adapters_contract() -> None:
    executions = MemoryExecutions()
    obj = DroppedObject(bucket="drop", key="identify/x/a.pdf")
    assert executions.describe("x") is None
    assert executions.start("x", obj) is True
    assert executions.start("x", obj) is False
    described = executions.describe("x")
    assert described is not None
    assert described.status is ExecutionStatus.RUNNING


# --- the handler: 004's envelopes ------------------------------------------------------


def load_function(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setenv("FAPIAO_INGEST_STATE_MACHINE", MACHINE)
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "FapiaoTest")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "cn-north-1")
    return handler_module(name)


class Context:
    function_name = "IdentifyFunction"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:cn-north-1:123456789012:function:IdentifyFunction"
    aws_request_id = "r"


@pytest.fixture
def identify(monkeypatch: pytest.MonkeyPatch) -> tuple[ModuleType, World]:
    module = load_function("IdentifyFunction", monkeypatch)
    world = World()
    monkeypatch.setattr(module, "deps", lambda: module.Deps(identify=world.deps))
    return module, world


def call(module: ModuleType, path: str, body: bytes, content_type: str) -> tuple[int, Any]:
    text = body.decode("utf-8") if content_type == "application/json" else None
    event = {
        "resource": path,
        "path": path,
        "httpMethod": "POST",
        "headers": {"Content-Type": content_type},
        "multiValueHeaders": {"Content-Type": [content_type]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {"requestId": "r1", "resourcePath": path, "httpMethod": "POST"},
        "body": text if text is not None else base64.b64encode(body).decode("ascii"),
        "isBase64Encoded": text is None,
    }
    answer = module.lambda_handler(event, Context())
    return answer["statusCode"], json.loads(answer["body"])


def form(data: bytes, name: str = "a.pdf", field: str = "imageFile") -> tuple[bytes, str]:
    boundary = "----fapiaoBoundary7MA4YWxk"
    body = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="appKey"\r\n\r\nignored\r\n'
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="{field}"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def test_a_multipart_file_arrives_byte_for_byte(identify: tuple[ModuleType, World]) -> None:
    module, world = identify
    tricky = PDF + b"\r\n--not-the-boundary\r\n\r\n\x00\xff\r"  # a binary tail
    status, answer = call(module, "/openapi/identify/sendByImageFile", *form(tricky, "发票.pdf"))
    assert status == 200, answer
    assert answer == {"code": 0, "data": answer["data"]}
    assert world.uploads.files == {f"identify/{answer['data']}/发票.pdf": tricky}


def test_the_handler_answers_004s_envelopes(identify: tuple[ModuleType, World]) -> None:
    module, world = identify
    status, sent = call(module, "/openapi/identify/sendByImageFile", *form(PDF))
    assert (status, set(sent)) == (200, {"code", "data"})
    ask = json.dumps({"identifyId": sent["data"]}).encode()

    assert call(module, "/openapi/identify/result", ask, "application/json") == (
        200,
        {"code": 0, "data": None},
    )
    world.run_ingest(sent["data"])
    status, done = call(module, "/openapi/identify/result", ask, "application/json")
    assert status == 200
    assert set(done) == {"code", "data"}
    assert done["code"] == 0
    data = done["data"]
    assert data["invoiceType"] == "1002"
    assert data["invoiceNo"] == SPEC.invoice_number
    assert data["date"] == SPEC.receipt_date.strftime("%Y年%m月%d日")
    assert data["totalAmount"] == str(SPEC.total_amount)


def test_a_failed_recognition_is_code_minus_one_with_http_200(
    identify: tuple[ModuleType, World],
) -> None:
    module, world = identify
    _, sent = call(module, "/openapi/identify/sendByImageFile", *form(png(), "a.png"))
    world.run_ingest(sent["data"])
    ask = json.dumps({"identifyId": sent["data"]}).encode()
    status, failed = call(module, "/openapi/identify/result", ask, "application/json")
    assert status == 200
    assert set(failed) == {"code", "message"}
    assert failed["code"] == -1
    assert failed["message"].startswith("识别失败: ")


@pytest.mark.parametrize(
    ("path", "body", "content_type", "status", "message"),
    [
        (
            "/openapi/identify/result",
            b'{"identifyId": "3c35fc8eb3b2466397c5d3abd580730c"}',
            "application/json",
            404,
            "未查询到对应识别请求",
        ),
        (
            "/openapi/identify/sendByImageFile",
            *form(PDF + b"\n" * MAX_UPLOAD_BYTES),
            413,
            "图片最大支持1M",
        ),
        ("/openapi/identify/sendByImageFile", *form(GIF, "a.gif"), 415, "图片文件类型不支持"),
    ],
)
def test_refusals_carry_004s_own_messages(
    identify: tuple[ModuleType, World],
    path: str,
    body: bytes,
    content_type: str,
    status: int,
    message: str,
) -> None:
    module, world = identify
    assert call(module, path, body, content_type) == (status, {"code": -1, "message": message})
    assert world.uploads.files == {}


@pytest.mark.parametrize(
    ("path", "body", "content_type"),
    [
        ("/openapi/identify/sendByImageUrl", b"{}", "application/json"),
        ("/openapi/identify/sendByImageUrl", b"not json", "application/json"),
        ("/openapi/identify/result", b'{"id": "x"}', "application/json"),
        ("/openapi/identify/sendByImageFile", *form(PDF, field="file")),
        ("/openapi/identify/sendByImageFile", b"imageFile=x", "text/plain"),
    ],
)
def test_malformed_requests_are_400_in_004s_envelope(
    identify: tuple[ModuleType, World], path: str, body: bytes, content_type: str
) -> None:
    module, _ = identify
    status, answer = call(module, path, body, content_type)
    assert status == 400
    assert answer["code"] == -1
    assert answer["message"].startswith("请求参数错误")


# --- the S3 drop function --------------------------------------------------------------


def s3_notification(*keys: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": "drop"}, "object": {"key": key, "eTag": "e"}},
            }
            for key in keys
        ]
    }


def test_the_s3_drop_leaves_identify_objects_to_the_identify_api(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    module = load_function("S3DropFunction", monkeypatch)
    started: list[str] = []
    monkeypatch.setattr(
        module,
        "start_ingest",
        lambda settings, obj, express: started.append(obj.key) or express,
    )
    body = json.dumps(s3_notification("identify/abc/a.pdf", "u1/inbox/a.pdf"))
    module.start(SQSRecord({"messageId": "m1", "body": body}))
    assert started == ["u1/inbox/a.pdf"]
