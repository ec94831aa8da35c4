"""The command line finishes what it starts, against `fapiao serve` (a process, as a user
runs it): `fapiao ingest` waits for every invoice of a 29-invoice PDF and prints 29
lines, says "already processed" for bytes it sent before, exits 1 for a file it could
not read; a file in the inbox's `alice/` folder is alice's, and a taxi photo there is read by
the hub's own OCR and created (status I); `fapiao ocr` sends a local
file through ocrSync (spec 000) and prints 000's answer, starting no pipeline."""

from __future__ import annotations

import io
import os
import time
from collections.abc import Iterator
from pathlib import Path

import ingest_runs
import pypdfium2 as pdfium
import pytest
from fixtures.generate import invoice_pdf, qr_photo
from fixtures.served import recent_invoice

from fapiao.local import cli
from fapiao.local.resources import LocalNames
from fapiao.local.template import Template
from fapiao.model.pipeline import Outcome
from fapiao.services.reconcile import listed_object, outcomes_in
from fapiao.store.outcomes import DynamoOutcomes
from fapiao.wire.common import load_json
from fapiao.wire.ocr_sync import OcrSyncItem, OcrSyncResponse
from hubprocess import RunningHub, start_hub
from support import CORPUS, REGION, TEMPLATE, Session

pytestmark = pytest.mark.slow

INVOICES = 29
FINE = {"created", "duplicate"}


@pytest.fixture(scope="module")
def hub_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hub") / "data"


@pytest.fixture(scope="module")
def hub(hub_data: Path) -> Iterator[RunningHub]:
    # The embedded engine alone, the offline verifier, the development key kept in the
    # data folder (where the commands find it).
    unset = ("FAPIAO_IDENTIFIER", "FAPIAO_DEV_API_KEY", "FAPIAO_INBOX_OWNER")
    running = start_hub(hub_data, dict.fromkeys(unset))
    yield running
    if running.process.poll() is None:
        running.stop()


@pytest.fixture
def data(hub: RunningHub, hub_data: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The hub's data folder, the one thing the commands are told."""
    for name in ("FAPIAO_DATA_DIR", "FAPIAO_REGION", "FAPIAO_TEMPLATE", "FAPIAO_DEV_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return hub_data


def fapiao(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def corpus_pdfs() -> list[Path]:
    found = sorted((CORPUS / "files").glob("*.pdf"))
    if not found:
        pytest.skip(f"the shared corpus is not at {CORPUS} (clone with ../shared beside it)")
    return found


def merged_pdf(pages: int) -> bytes:
    """The corpus's text-layer PDFs merged into one file of ``pages`` invoices (the corpus
    has no 29-invoice file): each file in turn, again from the first when they run out,
    so some invoices come twice (the second is a duplicate)."""
    files = corpus_pdfs()
    merged = pdfium.PdfDocument.new()
    for page in range(pages):
        merged.import_pages(pdfium.PdfDocument(files[page % len(files)].read_bytes()))
    out = io.BytesIO()
    merged.save(out)
    return out.getvalue()


def rows(out: str) -> list[list[str]]:
    lines = [line.split("\t") for line in out.splitlines()]
    assert all(len(line) == 7 for line in lines), out
    return lines


def test_ingest_of_a_29_invoice_pdf_prints_29_lines_and_again_already_processed(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    merged = tmp_path / "merged.pdf"
    merged.write_bytes(merged_pdf(INVOICES))
    argv = ("ingest", str(merged), "--data", str(data), "--owner", "bob", "--timeout", "240")
    started = time.monotonic()

    code, out, err = fapiao(capsys, *argv)

    took = time.monotonic() - started
    assert err == ""
    first = rows(out)
    assert [int(row[1]) for row in first] == list(range(INVOICES))
    assert {row[0] for row in first} == {str(merged)}
    assert {row[6] for row in first} == {"sent"}
    assert all(row[2] in {"created", "duplicate", "rejected"} for row in first), out
    assert all(row[5] for row in first)  # a message or an invoice key, always
    # the corpus's pages 15-29 repeat pages 1-15: those invoices are duplicates or were
    # refused as the first ones were
    assert code == (0 if all(row[2] in FINE for row in first) else 1)
    assert took < 200

    again_code, again, again_err = fapiao(capsys, *argv)

    assert (again_code, again_err) == (code, "")
    second = rows(again)
    assert {row[6] for row in second} == {"already processed"}
    assert [row[:6] for row in second] == [row[:6] for row in first]


def test_ingest_of_a_file_that_cannot_be_read_exits_1(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scans = tmp_path / "scans"
    scans.mkdir()
    (scans / "a.pdf").write_bytes(invoice_pdf(recent_invoice(11_601)))
    (scans / "b.jpg").write_bytes(qr_photo([], size=(333, 222)))  # nothing machine-readable

    code, out, err = fapiao(
        capsys, "ingest", str(scans), "--data", str(data), "--owner", "carol", "--timeout", "120"
    )

    assert (code, err) == (1, "")
    assert [(row[0], row[1], row[2]) for row in rows(out)] == [
        (str(scans / "a.pdf"), "0", "created"),
        (str(scans / "b.jpg"), "0", "unrecognisable"),
    ]


def drop_in_inbox(data: Path, user: str, name: str, content: bytes) -> None:
    """As a scanner or a file manager would: written aside, then renamed into place."""
    inbox = data.parent / "inbox"
    (inbox / user).mkdir(parents=True, exist_ok=True)
    part = inbox / user / f".{name}.part"  # the watcher skips dot-files
    part.write_bytes(content)
    os.replace(part, inbox / user / name)


def outcomes_under(hub: RunningHub, prefix: str, timeout: float = 60) -> list[Outcome]:
    """The outcomes of the objects under ``prefix`` of the drop bucket, once there are any."""
    session = Session(hub.aws)
    names = LocalNames(Template(TEMPLATE), REGION)
    bucket = names.ref("DropBucket")
    outcomes_of = outcomes_in(
        DynamoOutcomes(names.ref("OutcomesTable"), session.client("dynamodb"))
    )
    found: list[Outcome] = []
    deadline = time.monotonic() + timeout
    while not found and time.monotonic() < deadline:
        time.sleep(0.5)
        listed = session.client("s3").list_object_versions(Bucket=bucket, Prefix=prefix)
        for entry in listed.get("Versions", []):
            found.extend(outcomes_of(listed_object(bucket, entry)))
    return found


def test_a_file_in_a_users_inbox_folder_is_that_users(hub: RunningHub, data: Path) -> None:
    drop_in_inbox(data, "alice", "x.pdf", invoice_pdf(recent_invoice(11_701)))

    (outcome,) = outcomes_under(hub, "alice/")
    assert outcome.owner == "alice"
    assert outcome.object.key.startswith("alice/inbox/") and outcome.object.key.endswith("-x.pdf")
    assert outcome.outcome.value == "created"
    assert (data.parent / "inbox" / "alice" / ".sent" / "x.pdf").is_file()


def test_a_taxi_photo_in_the_inbox_is_read_here_and_created_as_i(
    hub: RunningHub, data: Path
) -> None:
    """No identify provider is configured (the hub fixture unsets it): the taxi receipt,
    which has no QR code and no text layer, is read by the hub's own OCR."""
    photo = CORPUS / "files" / "Cooduck__PaddleOCR_For_Invoice__test7.jpg"
    if not photo.is_file():
        pytest.skip(f"the shared corpus is not at {CORPUS} (clone with ../shared beside it)")
    drop_in_inbox(data, "dave", "taxi.jpg", photo.read_bytes())

    (outcome,) = outcomes_under(hub, "dave/", timeout=120)
    assert outcome.outcome.value == "created", outcome
    assert outcome.status is not None and outcome.status.value == "I"
    assert outcome.invoice_type is not None and outcome.invoice_type.code == "61"
    assert outcome.invoice_key == "14403237011912199866"


def test_ocr_prints_the_invoice_of_a_corpus_pdf_and_starts_no_pipeline(
    hub: RunningHub, data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pdf = next(p for p in corpus_pdfs() if p.name.endswith("25429165818000921016.pdf"))
    session = Session(hub.aws)
    names = LocalNames(Template(TEMPLATE), REGION)

    def executions() -> int:  # of both ingest machines
        return len(ingest_runs.runs(session.client("stepfunctions"), names))

    before = executions()

    code, out, err = fapiao(capsys, "ocr", str(pdf), "--data", str(data))

    assert (code, err) == (0, "")
    (line,) = out.splitlines()
    index, status, _, _, invoice_key, invoice_type, total, expense = line.split("\t")
    assert (index, invoice_key, expense) == ("0", "25429165818000921016", "")
    assert status in {"Y", "F", "C"}
    assert invoice_type.split(" ")[0].isdigit() and total

    code, out, err = fapiao(capsys, "ocr", str(pdf), "--data", str(data), "--json")

    assert (code, err) == (0, "")
    answer = OcrSyncResponse.model_validate(load_json(out))
    assert answer.res_code == 200000
    (item,) = answer.data or []
    assert isinstance(item, OcrSyncItem) and item.ocr_result is not None
    assert f"{item.ocr_result.invoice_code or ''}{item.ocr_result.invoice_num}" == invoice_key
    assert str(item.ocr_result.attachment_url).startswith("identify/ocr/")

    time.sleep(2)  # the S3 notification of the upload has been handled by now
    assert executions() == before


def test_ocr_create_makes_the_expense_under_the_user_code(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pdf = tmp_path / "a.pdf"
    pdf.write_bytes(invoice_pdf(recent_invoice(11_801)))
    argv = ("ocr", str(pdf), "--data", str(data), "--create", "--user-code", "MK00001")

    code, out, err = fapiao(capsys, *argv)

    assert (code, err) == (0, "")
    (line,) = out.splitlines()
    fields = line.split("\t")
    assert fields[1] in {"Y", "C"}
    assert fields[7].isdigit()  # the expense id

    code, out, err = fapiao(capsys, *argv)  # the same invoice again: 907002

    assert (code, err) == (0, "")
    (line,) = out.splitlines()
    assert line.split("\t")[1:3] == ["F", "907002"]


def test_ocr_of_a_file_that_is_no_invoice_exits_1_with_resmsg(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "note.txt").write_text("hello", encoding="utf-8")

    code, out, err = fapiao(capsys, "ocr", str(tmp_path / "note.txt"), "--data", str(data))

    assert (code, out) == (1, "")
    assert err.startswith("fapiao ocr: 415000: 文件类型不支持") and err.count("\n") == 1
