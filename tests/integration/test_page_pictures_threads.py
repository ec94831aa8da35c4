"""page_picture() from many threads at once, beside recognize(): both draw with PDFium,
which is not thread-safe, so both hold ``native.PDFIUM_LOCK``. The threads run in a
child process, so that a crash (SIGSEGV, "free(): invalid pointer") fails this test
instead of killing pytest; every picture drawn in the threads must equal the one drawn
in one thread afterwards.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fixtures.generate import blank_pdf, invoice_ofd, invoice_pdf, rail_spec, vat_spec

from fapiao.catalogue.types import InvoiceType
from support import CORPUS

THREADS = 6
CALLS = 90

# In the child: THREADS threads started together from a cold start share CALLS calls; the
# even threads draw pages (page_picture), the odd ones recognize the same files. Then every
# page is drawn once in one thread, and the threads' pictures must be the same bytes.
_CHILD = """
import hashlib, json, sys, threading
from pathlib import Path
from fapiao.catalogue.errors import HubError
from fapiao.recognize import recognize
from fapiao.recognize.pages import page_picture

def draw(data, number):
    try:
        page = page_picture(data, number)
        return ("picture", hashlib.sha256(page.content).hexdigest(), page.pages)
    except HubError as error:
        return ("error", error.problem, error.detail)

folder, threads, calls = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
paths = sorted(folder.iterdir())
files = [path.read_bytes() for path in paths]
wanted = [(i, n) for i, path in enumerate(paths) for n in (1, 2) if ".two" in path.name or n == 1]
start = threading.Barrier(threads)
drawn, recognized, failures = [], [], []

def work(first):
    start.wait()
    for call in range(first, calls, threads):
        index, number = wanted[call % len(wanted)]
        try:
            if first % 2 == 0:
                drawn.append(((index, number), draw(files[index], number)))
            else:
                recognize(files[index])
                recognized.append(index)
        except Exception as error:
            failures.append(repr(error))

workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
for worker in workers:
    worker.start()
for worker in workers:
    worker.join()
expected = {key: draw(files[key[0]], key[1]) for key in wanted}
print(json.dumps({
    "drawn": len(drawn),
    "recognized": len(recognized),
    "failures": failures,
    "differ": sorted({f"{paths[k[0]].name}#{k[1]}" for k, got in drawn if got != expected[k]}),
    "pictures": sum(1 for got in expected.values() if got[0] == "picture"),
    "pages": len(expected),
}))
"""


def _files(folder: Path) -> list[Path]:
    generated = {
        "gen-vat.pdf": invoice_pdf(vat_spec(1)),
        "gen-digital.two.pdf": invoice_pdf(
            vat_spec(2, InvoiceType.DIGITAL_SPECIAL), vat_spec(3, InvoiceType.DIGITAL_SPECIAL)
        ),
        "gen-rail.pdf": invoice_pdf(rail_spec(4)),
        "gen-blank.two.pdf": blank_pdf(2),
        "gen-original.ofd": invoice_ofd(vat_spec(5)),
    }
    for name, data in generated.items():
        (folder / name).write_bytes(data)
    corpus = CORPUS / "files"
    if corpus.is_dir():
        for path in sorted(corpus.iterdir()):
            if path.suffix == ".pdf":
                (folder / f"corpus-{len(path.read_bytes())}.pdf").write_bytes(path.read_bytes())
    return sorted(folder.iterdir())


@pytest.mark.slow
def test_threads_draw_the_pictures_of_one_thread(tmp_path: Path) -> None:
    files = _files(tmp_path)
    pages = len(files) + sum(1 for f in files if ".two" in f.name)
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(tmp_path), str(THREADS), str(CALLS)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-2000:]}"
    outcome = json.loads(done.stdout)
    assert outcome["failures"] == []
    assert outcome["drawn"] + outcome["recognized"] == CALLS
    assert outcome["drawn"] == CALLS // 2
    assert outcome["differ"] == []
    assert outcome["pages"] == pages
    assert outcome["pictures"] == pages  # every page drawn, none refused
