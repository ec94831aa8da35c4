"""Time to verify a file's signature, per kind of file, on the corpus's files.

    .venv/bin/python bench/signatures.py [--runs N]

Every OFD and PDF of ../shared/corpus/files is verified N times
(``fapiao.recognize.signatures``); prints the median per file with its state, and the
median per kind: OFD (SES, SM2), PDF signed with SM2 (12306), PDF signed with RSA, and
unsigned files. Issue 15's bounds: 30 ms an OFD, 20 ms a PDF. Asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from pathlib import Path

from fapiao.model.signature import CheckState, SignatureCheck
from fapiao.recognize.safezip import SafeZip
from fapiao.recognize.signatures.ofd import verify_ofd
from fapiao.recognize.signatures.pdf import verify_pdf

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "files"


def verify(path: Path, data: bytes) -> SignatureCheck:
    if path.suffix.lower() == ".ofd":
        return verify_ofd(SafeZip(data))
    return verify_pdf(data)


def kind_of(path: Path, check: SignatureCheck) -> str:
    if check.state is CheckState.ABSENT:
        return f"{path.suffix.lower()[1:]} unsigned"
    if path.suffix.lower() == ".ofd":
        return "ofd SES (SM2)"
    return f"pdf {'SM2' if (check.algorithm or '').startswith('SM2') else 'RSA'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    files = sorted(p for p in CORPUS.glob("*") if p.suffix.lower() in (".ofd", ".pdf"))
    if not files:
        print(f"no corpus at {CORPUS}")
        return
    per_kind: dict[str, list[float]] = defaultdict(list)
    print(f"{'file':<48} {'state':<24} {'ms':>6}")
    for path in files:
        data = path.read_bytes()
        check = verify(path, data)  # warm: imports, OID tables
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            verify(path, data)
            times.append((time.perf_counter() - started) * 1000)
        median = statistics.median(times)
        per_kind[kind_of(path, check)].append(median)
        print(f"{path.name[:48]:<48} {check.state.value:<24} {median:>6.2f}")
    for kind, medians in sorted(per_kind.items()):
        print(f"median {kind}: {statistics.median(medians):.2f} ms over {len(medians)} files")


if __name__ == "__main__":
    main()
