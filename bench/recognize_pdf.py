"""Time to recognize a one-page e-invoice PDF, QR cross-check included, against
pdfplumber's plain text extraction of the same file in the same process.

    .venv/bin/python bench/recognize_pdf.py [FILE.pdf ...] [--runs N] [--profile]

Without files it takes the one-page PDFs of ../shared/corpus (or a generated invoice
when the corpus is absent). Prints figures; asserts nothing. ``--profile`` prints, after
them, where recognition spends its time: milliseconds per stage and file (each stage's
functions timed in place; "rest" is what no stage holds: closing, the drafts, detect).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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


# Stages of a one-page PDF's recognition, in order: (name, [(module, attribute), ...]).
# Each attribute is a function (or class) looked up by its module at call time.
STAGES: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("open", (("fapiao.recognize.pdf", "open_document"),)),
    ("page", (("pypdfium2", "PdfDocument.get_page"),)),
    ("textpage", (("pypdfium2", "PdfPage.get_textpage"),)),
    ("chars", (("fapiao.recognize.pdf", "_chars"),)),
    ("segments", (("fapiao.recognize.pdf", "segments_from_columns"),)),
    ("layout", (("fapiao.recognize.pdf", "Layout"),)),
    (
        "title",
        (("fapiao.recognize.printed", "is_list_page"), ("fapiao.recognize.printed", "title_type")),
    ),
    ("images", (("fapiao.recognize.pdf", "_image_objects"),)),
    (
        "qr",
        (("fapiao.recognize.pdf", "_qr_texts"), ("fapiao.recognize.pdf", "invoice_payloads")),
    ),
    ("read", (("fapiao.recognize.printed", "read"),)),
    ("merge", (("fapiao.recognize.pdf", "merge"),)),
)


@contextlib.contextmanager
def timed_stages(spent: dict[str, float]) -> Iterator[None]:
    """While open, each stage's functions add the seconds they take to ``spent``."""
    import importlib

    undo: list[tuple[Any, str, Any]] = []

    def timer(stage: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[stage] = spent.get(stage, 0.0) + time.perf_counter() - started

        return timed

    for stage, places in STAGES:
        for module_name, path in places:
            owner: Any = importlib.import_module(module_name)
            *outer, name = path.split(".")
            for part in outer:
                owner = getattr(owner, part)
            undo.append((owner, name, getattr(owner, name)))
            setattr(owner, name, timer(stage, getattr(owner, name)))
    try:
        yield
    finally:
        for owner, name, original in reversed(undo):
            setattr(owner, name, original)


def profile(named: list[tuple[str, bytes]], runs: int) -> None:
    """Milliseconds per stage (a mean over ``runs``) for each file, and their medians."""
    from fapiao.recognize import recognize

    names = [stage for stage, _ in STAGES] + ["rest", "total"]
    print()
    print(f"{'per stage, ms':<30}" + "".join(f"{n[:8]:>9}" for n in names))
    table: list[list[float]] = []
    for name, data in named:
        spent: dict[str, float] = {}
        with timed_stages(spent):
            recognize(data)  # warm, timers included
            spent.clear()
            started = time.perf_counter()
            for _ in range(runs):
                recognize(data)
            total = time.perf_counter() - started
        row = [spent.get(stage, 0.0) / runs * 1000 for stage, _ in STAGES]
        row += [total / runs * 1000 - sum(row), total / runs * 1000]
        table.append(row)
        print(f"{name[:30]:<30}" + "".join(f"{ms:>9.3f}" for ms in row))
    if table:
        medians = [statistics.median(column) for column in zip(*table, strict=True)]
        print(f"{'median':<30}" + "".join(f"{ms:>9.3f}" for ms in medians))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("files", nargs="*")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--profile", action="store_true", help="milliseconds per stage")
    args = parser.parse_args()

    from fapiao.recognize import Source, recognize

    print(f"{'file':<44} {'recognize':>10} {'pdfplumber':>11} {'ratio':>6}  qr")
    ours_all, theirs_all = [], []
    one_page: list[tuple[str, bytes]] = []
    for name, data in files(args.files):
        results = recognize(data)
        if len(results) != 1:
            continue  # one-page invoices only
        one_page.append((name, data))
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
    if args.profile:
        profile(one_page, args.runs)


if __name__ == "__main__":
    main()
