"""Time to recognize a one-page e-invoice PDF, QR cross-check included, against
pdfplumber's plain text extraction of the same file in the same process.

    .venv/bin/python bench/recognize_pdf.py [FILE.pdf ...] [--runs N]

Without files it takes the one-page PDFs of ../shared/corpus (or a generated invoice
when the corpus is absent). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pdfplumber

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "files"
# tests/ is not installed: import its helpers as pytest does (pyproject's pythonpath)
sys.path.insert(0, str(ROOT / "tests"))


def median_ms(run: Callable[[], object], runs: int) -> float:
    run()  # warm: imports, fonts, the QR decoder
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def files(named: list[str]) -> list[tuple[str, bytes]]:
    if named:
        return [(Path(n).name, Path(n).read_bytes()) for n in named]
    found = sorted(CORPUS.glob("*.pdf")) if CORPUS.is_dir() else []
    if found:
        return [(f.name, f.read_bytes()) for f in found]
    from fixtures.generate import invoice_pdf, vat_spec

    return [("generated.pdf", invoice_pdf(vat_spec(1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("files", nargs="*")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    from fapiao.recognize import Source, recognize

    print(f"{'file':<44} {'recognize':>10} {'pdfplumber':>11} {'ratio':>6}  qr")
    ours_all, theirs_all = [], []
    for name, data in files(args.files):
        results = recognize(data)
        if len(results) != 1:
            continue  # one-page invoices only
        cross_checked = Source.QR in results[0].sources.get("invoice_number", [])

        def plumber(data: bytes = data) -> str:
            with pdfplumber.open(io.BytesIO(data)) as pdf:
                return pdf.pages[0].extract_text() or ""

        ours = median_ms(lambda data=data: recognize(data), args.runs)
        theirs = median_ms(plumber, max(args.runs // 3, 5))
        ours_all.append(ours)
        theirs_all.append(theirs)
        print(
            f"{name[:44]:<44} {ours:>8.2f}ms {theirs:>9.2f}ms {theirs / ours:>5.1f}x"
            f"  {'yes' if cross_checked else 'no'}"
        )
    if ours_all:
        ours, theirs = statistics.median(ours_all), statistics.median(theirs_all)
        print(
            f"median over {len(ours_all)} files: recognize {ours:.2f} ms "
            f"(QR cross-check included), pdfplumber text {theirs:.2f} ms, "
            f"{theirs / ours:.1f}x faster"
        )


if __name__ == "__main__":
    main()
