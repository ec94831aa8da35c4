"""recognize() from many threads at once: PDFium is not thread-safe, so without its lock
(fapiao.recognize.native.PDFIUM_LOCK) eight threads reading one-page PDFs crash the
process (SIGSEGV, "free(): invalid pointer") or get wrong answers. The threads run in a
child process, so that a crash fails this test instead of killing pytest."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from fixtures.generate import (
    blank_pdf,
    invoice_ofd,
    invoice_pdf,
    qr_photo,
    rail_spec,
    scanned_pdf,
    vat_spec,
)

from fapiao.catalogue.types import InvoiceType
from support import CORPUS

THREADS = 8
CALLS = 400

# In the child: THREADS threads started together share CALLS calls, PDFs three times as
# often as the rest, from a cold start (PDFium's global caches filled concurrently: the
# likeliest crash); then every file is read once in one thread, and each answer of the
# threads must equal that file's single-threaded one.
_CHILD = """
import json, sys, threading, warnings
from pathlib import Path
from fapiao.catalogue.errors import HubError
from fapiao.recognize import recognize

def answer(data):
    try:
        return ("invoices", recognize(data))
    except HubError as error:
        return ("error", error.problem, error.detail)

folder, threads, calls = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
paths = sorted(folder.iterdir())
files = [path.read_bytes() for path in paths]
playlist = [i for i, path in enumerate(paths) for _ in range(3 if path.suffix == ".pdf" else 1)]
from fapiao.recognize import ocr
ocr.available()  # numpy's and ONNX Runtime's imports add filters of their own, once
filters = list(warnings.filters)
start = threading.Barrier(threads)
answers = []

def work(first):
    start.wait()
    for call in range(first, calls, threads):
        index = playlist[call % len(playlist)]
        answers.append((index, answer(files[index])))

workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
for worker in workers:
    worker.start()
for worker in workers:
    worker.join()
expected = [answer(data) for data in files]
print(json.dumps({
    "calls": len(answers),
    "differ": sorted({paths[i].name for i, got in answers if got != expected[i]}),
    "recognized": sum(1 for e in expected if e[0] == "invoices"),
    "filters_kept": list(warnings.filters) == filters,
}))
"""


def _pages(data: bytes) -> int:
    document = pdfium.PdfDocument(data)
    try:
        return len(document)
    finally:
        document.close()


def _files(folder: Path) -> list[Path]:
    """Real one-page PDFs, OFD files and PNGs of the shared corpus (when it is there) and
    generated ones: QR as an image, as vector paths (the page is rendered), a scan."""
    generated = {
        "gen-image-qr.pdf": invoice_pdf(vat_spec(1)),
        "gen-vector-qr.pdf": invoice_pdf(vat_spec(2, InvoiceType.DIGITAL_SPECIAL), vector_qr=True),
        "gen-rail.pdf": invoice_pdf(rail_spec(3)),
        "gen-scan.pdf": scanned_pdf(vat_spec(4).qr_payload()),
        "gen-original.ofd": invoice_ofd(vat_spec(5)),
        "gen-tags.ofd": invoice_ofd(vat_spec(6, InvoiceType.DIGITAL_NORMAL), route="tags"),
        "gen-photo.png": qr_photo([vat_spec(7).qr_payload()], size=(800, 600), fmt="PNG"),
    }
    for name, data in generated.items():
        (folder / name).write_bytes(data)
    corpus = CORPUS / "files"
    if corpus.is_dir():
        for path in sorted(corpus.iterdir()):
            data = path.read_bytes()
            if path.suffix == ".pdf" and _pages(data) != 1:
                continue
            # the corpus's photos are left out: each is read by OCR, seconds under its lock
            # (the generated photo and scan above run it in these threads all the same)
            if path.suffix in (".pdf", ".ofd"):
                (folder / f"corpus-{len(data)}{path.suffix}").write_bytes(data)
    return sorted(folder.iterdir())


@pytest.mark.slow
def test_eight_threads_get_the_answers_of_one_thread(tmp_path: Path) -> None:
    files = _files(tmp_path)
    assert sum(1 for f in files if f.suffix == ".pdf") >= 4
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(tmp_path), str(THREADS), str(CALLS)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-2000:]}"
    outcome = json.loads(done.stdout)
    assert outcome["calls"] == CALLS
    assert outcome["differ"] == []
    assert outcome["recognized"] == len(files)  # every file gave invoices, no error
    assert outcome["filters_kept"]  # image.open_image's warning filter did not leak


# yipiaoyun (004) cuts PDFs into one-page PDFs with PDFium too: its threads and
# recognize()'s share the lock. Half the threads submit multi-page PDFs to a stand-in
# for yipiaoyun that keeps what was uploaded, half recognize; all from a cold start.
_CHILD_004 = """
import hashlib, json, re, sys, threading
from pathlib import Path
import httpx
from fapiao.providers.yipiaoyun import YipiaoyunIdentifier
from fapiao.recognize import recognize

def yipiaoyun(request):
    # the identify id: a digest of the uploaded PDF, less what PDFium makes up anew at
    # each save (its /ID and /CreationDate)
    body = request.read()
    pdf = body[body.index(b"%PDF-"):body.rindex(b"%%EOF")]
    pdf = re.sub(rb"/ID\\[<[0-9A-F]+><[0-9A-F]+>\\]|/CreationDate\\([^)]*\\)", b"", pdf)
    digest = hashlib.sha256(pdf).hexdigest()
    return httpx.Response(200, json={"code": 0, "data": digest})

identifier = YipiaoyunIdentifier("http://yipiaoyun.test", client=httpx.Client(
    transport=httpx.MockTransport(yipiaoyun)))
folder, threads, calls = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
paths = sorted(folder.iterdir())
files = [path.read_bytes() for path in paths]
start = threading.Barrier(threads)
answers = []

def answer(index):
    if paths[index].name.startswith("pages"):
        return [(s.page, s.identify_id) for s in identifier.submit_file(files[index])]
    return recognize(files[index])

def work(first):
    start.wait()
    for call in range(first, calls, threads):
        index = call % len(files)
        answers.append((index, answer(index)))

workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
for worker in workers:
    worker.start()
for worker in workers:
    worker.join()
expected = [answer(index) for index in range(len(files))]
print(json.dumps({
    "calls": len(answers),
    "differ": sorted({paths[i].name for i, got in answers if got != expected[i]}),
    "pages_sent": sum(len(e) for e in expected if isinstance(e[0], tuple)),
}))
"""


@pytest.mark.slow
def test_yipiaoyun_cutting_pdfs_in_threads_beside_recognition(tmp_path: Path) -> None:
    for pages in (2, 3, 4):
        (tmp_path / f"pages-{pages}.pdf").write_bytes(blank_pdf(pages))
    (tmp_path / "pages-invoices.pdf").write_bytes(invoice_pdf(vat_spec(8), rail_spec(9)))
    (tmp_path / "recognize-1.pdf").write_bytes(invoice_pdf(vat_spec(10)))
    (tmp_path / "recognize-2.pdf").write_bytes(
        invoice_pdf(vat_spec(11, InvoiceType.DIGITAL_NORMAL), vector_qr=True)
    )
    done = subprocess.run(
        [sys.executable, "-c", _CHILD_004, str(tmp_path), str(THREADS), str(CALLS)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-2000:]}"
    outcome = json.loads(done.stdout)
    assert outcome == {"calls": CALLS, "differ": [], "pages_sent": 2 + 3 + 4 + 2}
