"""YipiaoyunIdentifier against the fake yipiaoyun on loopback (spec 004): submit, poll
until done; 1 MB uploads; PDFs a page at a time; every 004 example type mapped;
failures end in a documented submission or poll, never an exception."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from contract.spec_examples import examples
from fixtures.generate import invoice_pdf, qr_png, vat_spec
from PIL import Image

from fakes.yipiaoyun_server import MAX_BYTES, FakeYipiaoyun, decodes, error, raw, slow
from fapiao.catalogue.errors import Problem
from fapiao.catalogue.types import InvoiceType
from fapiao.model import Invoice
from fapiao.providers.identifier import PollState
from fapiao.providers.yipiaoyun import YipiaoyunIdentifier
from fapiao.recognize import qr_image
from fapiao.settings import IdentifierSettings

T = InvoiceType
D = Decimal

RESULTS = [
    e["data"]
    for e in examples("004")
    if isinstance(e, dict) and e.get("code") == 0 and isinstance(e.get("data"), dict)
]
# 004's result examples in document order, and the type each one is.
EXPECTED_TYPES = [
    T.VAT_ELECTRONIC_NORMAL,  # "10102"
    T.TAXI,
    T.TRAIN,
    T.MACHINE_PRINTED,  # typed 6001 in the example, in the machine-printed shape
    T.VAT_ROLL,
    T.QUOTA,
    T.TOLL,
    T.BUS,
    T.FLIGHT_ITINERARY,
    T.USED_CAR,
    T.MOTOR_VEHICLE,
    T.RECEIPT,
    T.TAX_CERTIFICATE,
    T.RIDE_HAILING_ITINERARY,  # "2002"
]
_CHINESE_DATE = re.compile(r"(\d{4})年(\d{2})月(\d{2})日")


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeYipiaoyun]:
    with FakeYipiaoyun() as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh(fake: FakeYipiaoyun) -> None:
    fake.reset()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def identifier(fake: FakeYipiaoyun, sleeps: Sleeps) -> Iterator[YipiaoyunIdentifier]:
    built = make(fake, sleeps)
    yield built
    built.close()


def make(fake: FakeYipiaoyun, sleeps: Sleeps, **options: Any) -> YipiaoyunIdentifier:
    settings: dict[str, Any] = {
        "connect_timeout": 1.0,
        "read_timeout": 1.0,
        "sleep": sleeps,
        "jitter": lambda: 1.0,
        **options,
    }
    return YipiaoyunIdentifier(fake.url, **settings)


def poll_until_final(
    identifier: YipiaoyunIdentifier, identify_id: str, attempts: int
) -> tuple[Any, int]:
    """What the pipeline does (its Wait states aside): poll, at most ``attempts`` times."""
    poll = identifier.poll(identify_id)
    polls = 1
    while not poll.final and polls < attempts:
        poll = identifier.poll(identify_id)
        polls += 1
    return poll, polls


# --- submit, then poll ----------------------------------------------------------------


def test_pending_three_times_then_the_canonical_invoice(
    fake: FakeYipiaoyun, identifier: YipiaoyunIdentifier
) -> None:
    taxi = RESULTS[1]
    fake.plan(taxi, pending=3, pending_form="both")
    submission = identifier.submit_url("http://files.test/taxi.jpg")
    assert submission.accepted
    poll, polls = poll_until_final(identifier, submission.identify_id or "", attempts=6)
    assert poll.state is PollState.DONE and polls == 4
    assert fake.count("result") == 4
    assert poll.invoice == Invoice(
        invoice_type=T.TAXI,
        invoice_code="050003521107",
        invoice_number="89050020",
        receipt_date=dt.date(2019, 7, 6),
        start_time="11:23",
        end_time="11:39",
        mileage=D("3.2"),
        total_amount=D("23.30"),
    )


def test_a_recognition_that_never_ends_is_still_pending_after_the_attempts(
    fake: FakeYipiaoyun, identifier: YipiaoyunIdentifier
) -> None:
    attempts = IdentifierSettings.from_env({}).identify_poll_attempts
    fake.plan(pending=None)
    identify_id = identifier.submit_url("http://files.test/a.jpg").identify_id or ""
    poll, polls = poll_until_final(identifier, identify_id, attempts)
    assert poll.state is PollState.PENDING and poll.invoice is None
    assert polls == attempts == fake.polls_of(identify_id) == 6


@pytest.mark.parametrize(
    ("data", "expected"),
    list(zip(RESULTS, EXPECTED_TYPES, strict=True)),
    ids=[t.name for t in EXPECTED_TYPES],
)
def test_every_004_example_type_maps_into_the_canonical_model(
    fake: FakeYipiaoyun,
    identifier: YipiaoyunIdentifier,
    data: dict[str, Any],
    expected: InvoiceType,
) -> None:
    fake.plan(data, pending=1)
    identify_id = identifier.submit_url("http://files.test/a.pdf").identify_id or ""
    assert identifier.poll(identify_id).state is PollState.PENDING
    poll = identifier.poll(identify_id)
    assert poll.state is PollState.DONE and poll.invoice is not None
    invoice = poll.invoice
    assert invoice.invoice_type is expected
    total = str(data.get("totalAmount") or data.get("amountWithTax"))
    assert invoice.total_amount == D(total) and str(invoice.total_amount) == total
    assert invoice.invoice_number == (data.get("invoiceNo") or None)
    assert invoice.invoice_code == (data.get("invoiceCode") or None)
    date = _CHINESE_DATE.fullmatch(data.get("date") or "")
    assert invoice.receipt_date == (dt.date(*map(int, date.groups())) if date else None)


def test_the_flight_itinerary_keeps_its_segments_and_charges(
    fake: FakeYipiaoyun, identifier: YipiaoyunIdentifier
) -> None:
    fake.plan(RESULTS[8])
    poll = identifier.poll(identifier.submit_url("http://files.test/f.pdf").identify_id or "")
    assert poll.invoice is not None
    segment = poll.invoice.flight_detail[0]
    assert (segment.departure, segment.arrival, segment.flight_number, segment.date) == (
        "T3深圳",
        "杭州",
        "ZH9883",
        "2019-01-25",
    )
    assert (poll.invoice.fare, poll.invoice.civil_avn_dev_fund) == (D("1370.00"), D("50.00"))
    assert poll.invoice.international_flag == "D"


# --- what is uploaded -----------------------------------------------------------------


def four_megabyte_photo(payload: str) -> bytes:
    """A phone photo's worth of detail (noise) with an invoice QR code on it."""
    photo = Image.effect_noise((2600, 1950), 64).convert("RGB")
    photo.paste(qr_png(payload, scale=8).convert("RGB"), (900, 600))
    out = io.BytesIO()
    photo.save(out, format="JPEG", quality=95)
    return out.getvalue()


def test_a_4_mb_photo_arrives_within_1_mb_and_still_readable(
    fake: FakeYipiaoyun, identifier: YipiaoyunIdentifier
) -> None:
    payload = vat_spec(5).qr_payload()
    photo = four_megabyte_photo(payload)
    assert len(photo) > 4_000_000
    [submission] = identifier.submit_file(photo)
    assert submission.accepted and submission.reason is None
    [upload] = fake.uploads
    assert len(upload.data) <= MAX_BYTES and upload.content_type == "image/jpeg"
    width, height = decodes(upload.data)
    assert width / height == pytest.approx(2600 / 1950, rel=0.01)
    with Image.open(io.BytesIO(upload.data)) as sent:
        assert qr_image.decode(sent) == [payload]


def test_a_3_page_pdf_makes_3_submissions_of_one_page_each(
    fake: FakeYipiaoyun, identifier: YipiaoyunIdentifier
) -> None:
    import pypdfium2 as pdfium

    specs = [vat_spec(seed) for seed in (11, 12, 13)]
    submissions = identifier.submit_file(invoice_pdf(*specs))
    assert [s.page for s in submissions] == [1, 2, 3]
    assert all(s.accepted for s in submissions)
    assert len({s.identify_id for s in submissions}) == 3
    uploads = fake.uploads
    assert [u.pdf_pages for u in uploads] == [1, 1, 1]
    for upload, spec in zip(uploads, specs, strict=True):
        document = pdfium.PdfDocument(upload.data)
        try:
            assert spec.invoice_number in document[0].get_textpage().get_text_range()
        finally:
            document.close()
    for submission in submissions:
        assert identifier.poll(submission.identify_id or "").state is PollState.DONE


# --- failures -------------------------------------------------------------------------


def test_yipiaoyuns_own_1_mb_refusal_is_a_failed_submission(
    fake: FakeYipiaoyun, sleeps: Sleeps
) -> None:
    identifier = make(fake, sleeps, upload_limit=3_000_000)  # a hub set wrong
    [submission] = identifier.submit_file(four_megabyte_photo("x"))
    assert not submission.accepted and not submission.retryable
    assert (submission.reason, submission.problem) == ("图片最大支持1M", Problem.FILE_TOO_LARGE)
    assert fake.count("sendByImageFile") == 1 and len(fake.uploads[0].data) > MAX_BYTES


def test_an_unknown_identify_id_fails(identifier: YipiaoyunIdentifier) -> None:
    poll = identifier.poll("3c35fc8eb3b2466397c5d3abd580730c")
    assert (poll.state, poll.reason, poll.problem) == (
        PollState.FAILED,
        "未查询到对应识别请求",
        Problem.NOT_FOUND,
    )


def test_a_5xx_storm_fails_the_submission_retryably(
    fake: FakeYipiaoyun, identifier: YipiaoyunIdentifier, sleeps: Sleeps
) -> None:
    fake.inject("sendByImageUrl", *[raw(502, "<html>Bad Gateway</html>")] * 3)
    submission = identifier.submit_url("http://files.test/a.jpg")
    assert not submission.accepted and submission.retryable
    assert submission.problem is Problem.UPSTREAM_UNAVAILABLE
    assert submission.reason is not None and "502" in submission.reason
    assert fake.count("sendByImageUrl") == 3 and sleeps == [0.5, 1.0]


def test_a_slow_yipiaoyun_times_out_into_retry_later(fake: FakeYipiaoyun, sleeps: Sleeps) -> None:
    identifier = make(fake, sleeps, read_timeout=0.2, attempts=2)
    fake.inject("sendByImageUrl", slow(0.6), slow(0.6))
    submission = identifier.submit_url("http://files.test/a.jpg")
    assert submission.retryable and submission.reason is not None
    assert "timed out" in submission.reason
    fake.inject("result", slow(0.6), slow(0.6))
    poll = identifier.poll("any")
    assert poll.state is PollState.PENDING and poll.problem is Problem.UPSTREAM_UNAVAILABLE


def test_broken_json_then_the_answer(fake: FakeYipiaoyun, identifier: YipiaoyunIdentifier) -> None:
    identify_id = identifier.submit_url("http://files.test/a.jpg").identify_id or ""
    fake.inject("result", raw(200, '{"code": 0, "data": {"invoiceType'))
    assert identifier.poll(identify_id).state is PollState.DONE
    assert fake.count("result") == 2


def test_an_unreachable_yipiaoyun_is_retryable(sleeps: Sleeps) -> None:
    with FakeYipiaoyun() as gone:
        url = gone.url
    identifier = YipiaoyunIdentifier(url, connect_timeout=0.5, sleep=sleeps, attempts=2)
    submission = identifier.submit_url("http://files.test/a.jpg")
    assert submission.retryable and submission.reason is not None
    assert "unreachable" in submission.reason or "timed out" in submission.reason
    assert identifier.poll("x").state is PollState.PENDING


def test_yipiaoyuns_refusal_of_a_url_is_final(
    fake: FakeYipiaoyun, identifier: YipiaoyunIdentifier
) -> None:
    fake.inject("sendByImageUrl", error("图片URL无法访问"))
    submission = identifier.submit_url("http://files.test/gone.jpg")
    assert (submission.problem, submission.retryable) == (Problem.FILE_UNREACHABLE, False)
    assert fake.count("sendByImageUrl") == 1
