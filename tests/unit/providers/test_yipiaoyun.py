"""YipiaoyunIdentifier (spec 004) in process: the fake yipiaoyun behind an httpx
MockTransport (sockets are disabled here). What is uploaded, what pending means, what
each failure ends in; never an exception."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pypdfium2 as pdfium
import pytest
from fixtures.generate import blank_pdf, invoice_pdf, random_bytes, vat_spec
from PIL import Image
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from fakes.yipiaoyun_server import (
    MAX_BYTES,
    FakeYipiaoyun,
    answer,
    decodes,
    error,
    raw,
    slow,
)
from fapiao.catalogue.errors import Problem
from fapiao.catalogue.types import InvoiceType
from fapiao.mapping.yipiaoyun import parse_result_response
from fapiao.providers.identifier import Identifier, Poll, PollState, Submission
from fapiao.providers.uploads import MAX_UPLOAD_BYTES
from fapiao.providers.yipiaoyun import YipiaoyunIdentifier
from fapiao.settings import IdentifierKind, IdentifierSettings, SettingsError
from fapiao.wire.common import load_json
from fapiao.wire.yipiaoyun import TaxiResult

D = Decimal
BASE = "http://yipiaoyun.test"

FLIGHT: dict[str, Any] = {
    "invoiceType": "5003",
    "invoiceNo": "4792345930496",
    "date": "2019年03月04日",
    "totalAmount": "1420.00",
    "fareAmount": "1370.00",
    "flightInfos": [
        {"startPoint": "T3深圳", "endPoint": "杭州", "flightNumber": "ZH9883", "cabin": "Y"}
    ],
    "internationalFlag": "国内(D)",
    "ticketStatus": "normal",
}


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def fake() -> FakeYipiaoyun:
    return FakeYipiaoyun()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make(fake: FakeYipiaoyun, sleeps: Sleeps) -> Callable[..., YipiaoyunIdentifier]:
    def build(**options: Any) -> YipiaoyunIdentifier:
        settings: dict[str, Any] = {
            "client": httpx.Client(transport=fake.transport()),
            "sleep": sleeps,
            "jitter": lambda: 1.0,  # the longest backoff: 0.5 s, then 1 s
            **options,
        }
        return YipiaoyunIdentifier(BASE, **settings)

    return build


@pytest.fixture
def identifier(make: Callable[..., YipiaoyunIdentifier]) -> YipiaoyunIdentifier:
    return make()


def jpeg(image: Image.Image, quality: int = 95, **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality, **options)
    return out.getvalue()


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def noise(width: int, height: int) -> Image.Image:
    return Image.effect_noise((width, height), 64).convert("RGB")


def page_texts(pdf: bytes) -> list[str]:
    document = pdfium.PdfDocument(pdf)
    try:
        return [document[i].get_textpage().get_text_range() for i in range(len(document))]
    finally:
        document.close()


# --- the port -------------------------------------------------------------------------


def test_yipiaoyun_identifier_is_an_identifier(identifier: YipiaoyunIdentifier) -> None:
    port: Identifier = identifier
    assert port.submit_url("http://files.test/a.jpg").accepted


def test_poll_and_submission_travel_as_json_with_exact_money(
    fake: FakeYipiaoyun, identifier: YipiaoyunIdentifier
) -> None:
    submission = identifier.submit_url("http://files.test/a.jpg")
    poll = identifier.poll(submission.identify_id or "")
    assert Submission.model_validate_json(submission.model_dump_json()) == submission
    again = Poll.model_validate_json(poll.model_dump_json())
    assert again == poll
    assert again.invoice is not None and again.invoice.total_amount == D("3.00")
    assert str(again.invoice.total_amount) == "3.00"


# --- settings -------------------------------------------------------------------------


def test_settings_default_to_the_embedded_engine_and_growing_waits() -> None:
    settings = IdentifierSettings.from_env({})
    assert settings.identifier is IdentifierKind.EMBEDDED
    assert settings.identify_poll_attempts == 6
    assert settings.poll_waits == [2, 4, 8, 16, 32, 60]
    assert settings.wait_seconds(40) == 60


def test_yipiaoyun_needs_its_url() -> None:
    with pytest.raises(SettingsError, match="FAPIAO_YIPIAOYUN_URL"):
        IdentifierSettings.from_env({"FAPIAO_IDENTIFIER": "yipiaoyun"})
    settings = IdentifierSettings.from_env(
        {"FAPIAO_IDENTIFIER": "yipiaoyun", "FAPIAO_YIPIAOYUN_URL": BASE + "/"}
    )
    assert YipiaoyunIdentifier.from_settings(settings).base_url == BASE


@pytest.mark.parametrize(
    "env",
    [
        {"FAPIAO_IDENTIFIER": "baidu"},
        {"FAPIAO_IDENTIFY_FIRST_WAIT_SECONDS": "30", "FAPIAO_IDENTIFY_MAX_WAIT_SECONDS": "10"},
        {"FAPIAO_IDENTIFY_POLL_ATTEMPTS": "0"},
    ],
)
def test_malformed_settings_are_refused(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError):
        IdentifierSettings.from_env(env)


def test_waits_from_settings() -> None:
    settings = IdentifierSettings.from_env(
        {
            "FAPIAO_IDENTIFY_POLL_ATTEMPTS": "4",
            "FAPIAO_IDENTIFY_FIRST_WAIT_SECONDS": "5",
            "FAPIAO_IDENTIFY_MAX_WAIT_SECONDS": "12",
        }
    )
    assert settings.poll_waits == [5, 10, 12, 12]


# --- polls ----------------------------------------------------------------------------


def test_both_pending_forms_are_pending_until_the_result(
    fake: FakeYipiaoyun, identifier: YipiaoyunIdentifier
) -> None:
    fake.plan(pending=2, pending_form="both")
    identify_id = identifier.submit_url("http://files.test/a.jpg").identify_id or ""
    first, second, third = (identifier.poll(identify_id) for _ in range(3))
    assert first.state is PollState.PENDING and first.problem is None  # code 0, no data
    assert second.state is PollState.PENDING and second.reason == "识别中"  # code -1 识别中
    assert third.state is PollState.DONE and third.final
    assert third.invoice is not None
    assert third.invoice.invoice_type is InvoiceType.VAT_ELECTRONIC_NORMAL  # "10102"
    assert third.invoice.invoice_number == "89050020"
    assert fake.count("result") == 3  # a pending answer is never polled again in-call


@pytest.mark.parametrize(
    "body",
    [
        {"code": 0},
        {"code": 0, "data": None},
        {"code": 0, "data": ""},
        {"code": 0, "data": {}},
        {"code": -1, "message": "发票正在识别中,请稍后查询"},
        {"code": 1, "message": "识别中"},
    ],
    ids=["no-data", "null", "empty-string", "empty-object", "long-message", "code-1"],
)
def test_pending_forms(
    fake: FakeYipiaoyun, identifier: YipiaoyunIdentifier, body: dict[str, Any]
) -> None:
    fake.inject("result", answer(body))
    poll = identifier.poll("any-id")
    assert poll.state is PollState.PENDING
    assert fake.count("result") == 1


def test_fields_004_does_not_name_are_dropped(
    fake: FakeYipiaoyun, identifier: YipiaoyunIdentifier, caplog: pytest.LogCaptureFixture
) -> None:
    fake.plan(FLIGHT, extra={"requestId": "R1", "cost": 12})
    identify_id = identifier.submit_url("http://files.test/a.pdf").identify_id or ""
    with caplog.at_level(logging.DEBUG, logger="fapiao.providers.yipiaoyun"):
        poll = identifier.poll(identify_id)
    assert poll.state is PollState.DONE and poll.invoice is not None
    assert poll.invoice.invoice_type is InvoiceType.FLIGHT_ITINERARY
    assert poll.invoice.flight_detail[0].flight_number == "ZH9883"
    assert poll.invoice.international_flag == "D"
    dropped = [r for r in caplog.records if "does not name" in r.getMessage()]
    assert dropped and set(dropped[0].__dict__["fields"]) == {
        "requestId",
        "cost",
        "data.ticketStatus",
        "data.flightInfos[0].cabin",
    }


def test_a_result_with_a_json_number_keeps_its_digits() -> None:
    response, _ = parse_result_response(
        load_json('{"code": 0, "data": {"invoiceType": "5000", "totalAmount": 23.30}}')
    )
    assert isinstance(response.data, TaxiResult) and response.data.totalAmount == "23.30"


def test_an_unknown_id_fails(identifier: YipiaoyunIdentifier) -> None:
    poll = identifier.poll("never-given")
    assert poll.state is PollState.FAILED
    assert poll.reason == "未查询到对应识别请求"
    assert poll.problem is Problem.NOT_FOUND


def test_a_recognition_yipiaoyun_gave_up_on_fails_in_its_words(
    fake: FakeYipiaoyun, identifier: YipiaoyunIdentifier
) -> None:
    fake.inject("result", error("图片无法识别"))
    poll = identifier.poll("x")
    assert (poll.state, poll.reason, poll.problem) == (
        PollState.FAILED,
        "图片无法识别",
        Problem.UNRECOGNISABLE,
    )
    assert fake.count("result") == 1


@pytest.mark.parametrize(
    "data",
    [
        {"invoiceType": "7777", "totalAmount": "1.00"},
        {"invoiceType": "5000", "date": "2019年13月45日"},
        {"invoiceType": "5000", "totalAmount": "二十三元"},
    ],
    ids=["unknown-type", "impossible-date", "amount-in-words"],
)
def test_a_result_the_hub_cannot_read_fails(
    fake: FakeYipiaoyun, identifier: YipiaoyunIdentifier, data: dict[str, Any]
) -> None:
    fake.inject("result", answer({"code": 0, "data": data}))
    poll = identifier.poll("x")
    assert poll.state is PollState.FAILED
    assert poll.problem is Problem.UNRECOGNISABLE
    assert poll.reason is not None and "cannot be read" in poll.reason


@pytest.mark.parametrize(
    "failure",
    [raw(503, "<html>busy</html>"), raw(200, "{not json"), error("请求过于频繁"), slow(5)],
    ids=["503", "broken-json", "rate-limited", "timeout"],
)
def test_a_poll_without_an_answer_is_pending_after_the_retries(
    fake: FakeYipiaoyun, identifier: YipiaoyunIdentifier, sleeps: Sleeps, failure: Any
) -> None:
    fake.inject("result", failure, failure, failure)
    poll = identifier.poll("x")
    assert poll.state is PollState.PENDING
    assert poll.problem is Problem.UPSTREAM_UNAVAILABLE
    assert poll.reason is not None and poll.reason.endswith("poll again later")
    assert fake.count("result") == 3
    assert sleeps == [0.5, 1.0]


def test_a_poll_recovers_within_its_attempts(
    fake: FakeYipiaoyun, identifier: YipiaoyunIdentifier, sleeps: Sleeps
) -> None:
    identify_id = identifier.submit_url("http://files.test/a.jpg").identify_id or ""
    fake.inject("result", raw(502, ""))
    assert identifier.poll(identify_id).state is PollState.DONE
    assert fake.count("result") == 2 and sleeps == [0.5]


def test_a_wrong_url_fails_the_poll_at_once(fake: FakeYipiaoyun, sleeps: Sleeps) -> None:
    wrong = YipiaoyunIdentifier(
        BASE + "/api", client=httpx.Client(transport=fake.transport()), sleep=sleeps
    )
    poll = wrong.poll("x")  # an HTML 404: no retry helps until the hub is configured right
    assert poll.state is PollState.FAILED and poll.problem is Problem.INTERNAL
    assert sleeps == []


def test_a_poll_without_an_id_asks_nothing(
    fake: FakeYipiaoyun, identifier: YipiaoyunIdentifier
) -> None:
    assert identifier.poll("").state is PollState.FAILED
    assert fake.calls == []


def test_a_refusal_of_the_hub_alarms(
    fake: FakeYipiaoyun, identifier: YipiaoyunIdentifier, caplog: pytest.LogCaptureFixture
) -> None:
    fake.inject("result", error("未授权的调用"))
    with caplog.at_level(logging.ERROR, logger="fapiao.providers.yipiaoyun"):
        poll = identifier.poll("x")
    assert poll.state is PollState.FAILED and poll.problem is Problem.INTERNAL
    assert any(r.__dict__.get("alarm") == "yipiaoyun" for r in caplog.records)


def test_a_poll_stays_within_its_budget(fake: FakeYipiaoyun, sleeps: Sleeps) -> None:
    clock = iter([0.0, 0.0, 5.0, 9.0, 9.0, 9.0])
    identifier = YipiaoyunIdentifier(
        BASE,
        client=httpx.Client(transport=fake.transport()),
        sleep=sleeps,
        jitter=lambda: 1.0,
        attempts=5,
        budget_seconds=10.0,
        monotonic=lambda: next(clock),
    )
    fake.inject("result", *[raw(500, "")] * 5)
    assert identifier.poll("x").state is PollState.PENDING
    assert fake.count("result") == 2  # the third would start after the budget


# --- submissions ----------------------------------------------------------------------


def test_submit_url_sends_the_url_and_never_logs_it(
    fake: FakeYipiaoyun, identifier: YipiaoyunIdentifier, caplog: pytest.LogCaptureFixture
) -> None:
    url = "https://bucket.s3.amazonaws.com/a.pdf?X-Amz-Signature=s3cr3tsig"
    with caplog.at_level(logging.DEBUG):
        submission = identifier.submit_url(url)
    assert submission.accepted and submission.page is None
    assert fake.calls == [("sendByImageUrl", {"imageUrl": url})]
    for record in caplog.records:
        assert "s3cr3tsig" not in repr(record.__dict__)


@pytest.mark.parametrize("url", ["ftp://files.test/a.jpg", "file:///etc/passwd", "a.jpg", ""])
def test_submit_url_refuses_what_is_not_http(
    fake: FakeYipiaoyun, identifier: YipiaoyunIdentifier, url: str
) -> None:
    submission = identifier.submit_url(url)
    assert not submission.accepted and submission.problem is Problem.INVALID_REQUEST
    assert fake.calls == []


def test_a_refused_url_is_not_retried(fake: FakeYipiaoyun, identifier: YipiaoyunIdentifier) -> None:
    fake.inject("sendByImageUrl", error("图片URL无法访问"))
    submission = identifier.submit_url("http://files.test/gone.jpg")
    assert (submission.reason, submission.problem, submission.retryable) == (
        "图片URL无法访问",
        Problem.FILE_UNREACHABLE,
        False,
    )
    assert fake.count("sendByImageUrl") == 1


@pytest.mark.parametrize(
    ("failure", "problem"),
    [
        (raw(503, "busy"), Problem.UPSTREAM_UNAVAILABLE),
        (error("请求过于频繁"), Problem.RATE_LIMITED),
        (error("系统内部错误"), Problem.INTERNAL),
        (answer({"code": 0, "data": ""}), Problem.UPSTREAM_UNAVAILABLE),
        (slow(5), Problem.UPSTREAM_UNAVAILABLE),
    ],
    ids=["503", "rate-limited", "internal", "no-id", "timeout"],
)
def test_a_busy_yipiaoyun_fails_the_submission_retryably(
    fake: FakeYipiaoyun,
    identifier: YipiaoyunIdentifier,
    sleeps: Sleeps,
    failure: Any,
    problem: Problem,
) -> None:
    fake.inject("sendByImageFile", failure, failure, failure)
    [submission] = identifier.submit_file(png(Image.new("RGB", (60, 40), "white")))
    assert not submission.accepted
    assert submission.retryable and submission.problem is problem
    assert fake.count("sendByImageFile") == 3 and sleeps == [0.5, 1.0]


def test_a_submission_recovers_within_its_attempts(
    fake: FakeYipiaoyun, identifier: YipiaoyunIdentifier
) -> None:
    fake.inject("sendByImageUrl", raw(500, ""))
    assert identifier.submit_url("http://files.test/a.jpg").accepted
    assert fake.count("sendByImageUrl") == 2


def test_an_identify_id_sent_as_a_number_is_kept_as_text(
    fake: FakeYipiaoyun, identifier: YipiaoyunIdentifier
) -> None:
    fake.inject("sendByImageUrl", answer({"code": 0, "data": 12345, "traceId": "t"}))
    assert identifier.submit_url("http://files.test/a.jpg").identify_id == "12345"


def test_a_small_jpeg_goes_as_it_came(fake: FakeYipiaoyun, identifier: YipiaoyunIdentifier) -> None:
    data = jpeg(noise(300, 200))
    [submission] = identifier.submit_file(data)
    assert submission.accepted
    [upload] = fake.uploads
    assert (upload.data, upload.filename, upload.content_type) == (
        data,
        "invoice.jpg",
        "image/jpeg",
    )


def test_a_small_png_goes_as_a_png(fake: FakeYipiaoyun, identifier: YipiaoyunIdentifier) -> None:
    data = png(noise(300, 200))
    identifier.submit_file(data)
    [upload] = fake.uploads
    assert (upload.data, upload.filename, upload.content_type) == (data, "invoice.png", "image/png")


def test_a_large_png_becomes_a_jpeg_within_the_limit(
    fake: FakeYipiaoyun, identifier: YipiaoyunIdentifier
) -> None:
    data = png(noise(1200, 900))
    assert len(data) > MAX_UPLOAD_BYTES
    [submission] = identifier.submit_file(data)
    assert submission.accepted
    [upload] = fake.uploads
    assert upload.filename == "invoice.jpg" and upload.data[:3] == b"\xff\xd8\xff"
    assert len(upload.data) <= MAX_UPLOAD_BYTES
    assert decodes(upload.data) == (1200, 900)  # quality went first; the size stayed


def test_a_light_jpeg_of_too_many_pixels_is_scaled_down(
    fake: FakeYipiaoyun, identifier: YipiaoyunIdentifier
) -> None:
    data = jpeg(Image.new("RGB", (4800, 3600), "white"))  # 004: 建议分辨率过大的图片进行压缩
    assert len(data) < MAX_UPLOAD_BYTES
    identifier.submit_file(data)
    assert decodes(fake.uploads[0].data) == (3000, 2250)


@pytest.mark.parametrize("fmt", ["WEBP", "TIFF", "BMP"])
def test_kinds_004_does_not_take_are_sent_as_jpeg(
    fake: FakeYipiaoyun, identifier: YipiaoyunIdentifier, fmt: str
) -> None:
    out = io.BytesIO()
    Image.new("RGB", (80, 50), "white").save(out, format=fmt)
    [submission] = identifier.submit_file(out.getvalue())
    assert submission.accepted
    assert fake.uploads[0].content_type == "image/jpeg"
    assert decodes(fake.uploads[0].data) == (80, 50)


def test_a_shrunk_photo_is_upright_flat_and_without_metadata(
    make: Callable[..., YipiaoyunIdentifier], fake: FakeYipiaoyun
) -> None:
    photo = Image.new("RGBA", (400, 200), (0, 0, 0, 0))  # transparent: must turn white
    photo.paste(noise(400, 100).convert("RGBA"), (0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to view
    exif[0x010F] = "PhoneMaker"
    data = png(photo)
    with_exif = io.BytesIO()
    photo.save(with_exif, format="PNG", exif=exif)
    [submission] = make(upload_limit=len(data) // 2).submit_file(with_exif.getvalue())
    assert submission.accepted
    upload = fake.uploads[0].data
    with Image.open(io.BytesIO(upload)) as sent:
        assert sent.size == (200, 400)  # turned upright
        assert not sent.getexif()  # no maker, no GPS
        # the transparent half is white (after the turn it is the left half)
        assert sent.convert("L").getpixel((20, 200)) == pytest.approx(255, abs=12)


def test_an_image_that_cannot_fit_is_refused_without_a_call(
    make: Callable[..., YipiaoyunIdentifier], fake: FakeYipiaoyun
) -> None:
    [submission] = make(upload_limit=2_000).submit_file(png(noise(700, 700)))
    assert not submission.accepted and not submission.retryable
    assert submission.problem is Problem.FILE_TOO_LARGE
    assert fake.calls == []


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (random_bytes(2048), Problem.UNSUPPORTED_FILE_TYPE),
        (b"PK\x03\x04" + random_bytes(100), Problem.UNSUPPORTED_FILE_TYPE),  # an OFD
        (b"\x89PNG\r\n\x1a\n" + random_bytes(100), Problem.UNRECOGNISABLE),
        (b"%PDF-1.7\n" + random_bytes(100), Problem.UNRECOGNISABLE),
        (invoice_pdf(vat_spec(1), encrypt=True), Problem.UNRECOGNISABLE),
    ],
    ids=["unknown", "ofd", "broken-png", "broken-pdf", "encrypted-pdf"],
)
def test_files_yipiaoyun_cannot_take_are_refused_without_a_call(
    fake: FakeYipiaoyun, identifier: YipiaoyunIdentifier, data: bytes, problem: Problem
) -> None:
    [submission] = identifier.submit_file(data)
    assert not submission.accepted and submission.problem is problem
    assert submission.reason
    assert fake.calls == []


def test_too_many_pixels_are_refused_without_a_call(
    fake: FakeYipiaoyun, identifier: YipiaoyunIdentifier
) -> None:
    from fixtures.generate import big_image

    [submission] = identifier.submit_file(big_image(12000, 10000))
    assert submission.problem is Problem.FILE_TOO_LARGE and fake.calls == []


def test_a_one_page_pdf_goes_as_it_came(
    fake: FakeYipiaoyun, identifier: YipiaoyunIdentifier
) -> None:
    data = invoice_pdf(vat_spec(3))
    [submission] = identifier.submit_file(data)
    assert submission.accepted and submission.page == 1
    assert fake.uploads[0].data == data
    assert fake.uploads[0].filename == "invoice-p1.pdf"


def test_pdf_pages_go_one_at_a_time(fake: FakeYipiaoyun, identifier: YipiaoyunIdentifier) -> None:
    submissions = identifier.submit_file(blank_pdf(3))
    assert [s.page for s in submissions] == [1, 2, 3]
    assert len({s.identify_id for s in submissions}) == 3
    assert [u.pdf_pages for u in fake.uploads] == [1, 1, 1]
    assert [page_texts(u.data)[0].strip() for u in fake.uploads] == ["第1页", "第2页", "第3页"]


def test_only_the_pages_asked_for_are_sent(
    fake: FakeYipiaoyun, identifier: YipiaoyunIdentifier
) -> None:
    submissions = identifier.submit_file(blank_pdf(3), pages=[3, 2, 3, 7])
    assert [(s.page, s.accepted) for s in submissions] == [(3, True), (2, True), (7, False)]
    assert submissions[2].problem is Problem.INVALID_REQUEST
    assert [page_texts(u.data)[0].strip() for u in fake.uploads] == ["第3页", "第2页"]


def test_pages_past_the_limit_are_not_sent(
    make: Callable[..., YipiaoyunIdentifier], fake: FakeYipiaoyun
) -> None:
    submissions = make(max_pages=2).submit_file(blank_pdf(4))
    assert [s.accepted for s in submissions] == [True, True, False, False]
    assert {s.problem for s in submissions[2:]} == {Problem.FILE_TOO_LARGE}
    assert fake.count("sendByImageFile") == 2


def scanned_page_pdf(pages: int) -> bytes:
    """Pages that are each one photo of noise: every page's PDF is over 1 MB."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(595, 842))
    for _ in range(pages):
        pdf.drawImage(ImageReader(noise(900, 1300)), 0, 0, 595, 842)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def test_a_scanned_page_over_the_limit_is_rendered_as_a_jpeg(
    fake: FakeYipiaoyun, identifier: YipiaoyunIdentifier
) -> None:
    data = scanned_page_pdf(1)
    assert len(data) > MAX_UPLOAD_BYTES
    [submission] = identifier.submit_file(data)
    assert submission.accepted and submission.page == 1
    [upload] = fake.uploads
    assert upload.filename == "invoice-p1.jpg" and len(upload.data) <= MAX_BYTES
    width, height = decodes(upload.data)
    assert height > width >= 1000  # an A4 page, portrait, at a legible resolution


def test_pages_left_when_the_budget_ends_are_not_sent(fake: FakeYipiaoyun) -> None:
    now = [0.0]

    def clock() -> float:
        now[0] += 4.0  # every look at the clock: four seconds later
        return now[0]

    identifier = YipiaoyunIdentifier(
        BASE,
        client=httpx.Client(transport=fake.transport()),
        budget_seconds=15.0,
        monotonic=clock,
    )
    submissions = identifier.submit_file(blank_pdf(4))
    sent = [s for s in submissions if s.accepted]
    assert 0 < len(sent) < 4
    assert all(s.retryable and s.problem is None for s in submissions if not s.accepted)
    assert fake.count("sendByImageFile") == len(sent)
