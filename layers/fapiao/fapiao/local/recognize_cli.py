"""`fapiao recognize FILE|DIR... [--json]`: what the embedded engine reads in invoice files.

A folder stands for its files, all the way down, sorted (hidden ones left out). A table
for people; with ``--json`` one JSON array for programs, an element per file:
``{"file": PATH, "invoices": [...]}``, each invoice named as ``receipt_ocr.invoices[]``
of spec 001 (written by ``fapiao.mapping.invoice_create.to_ocr_invoice``) plus
``status``, ``sources`` and ``warnings`` (and ``reason``, ``page``, ``signature`` and
``confidence``, the OCR model's per field, where they apply). A file that cannot be
read at all (or a folder without files) gets ``error`` instead and one line on stderr,
and the exit code is 1. A file that takes more than a second (OCR of a photo) says so on
stderr while it is read, and how long it took.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from fapiao.catalogue.errors import HubError, Problem
from fapiao.catalogue.types import to_platform_code
from fapiao.local.locate import CommandError, files_of, read_file
from fapiao.mapping.invoice_create import OCR_NAMES, to_ocr_invoice
from fapiao.model.signature import SignatureCheck
from fapiao.recognize import RecognizedInvoice, recognize_with_signatures
from fapiao.settings import LocalHubSettings
from fapiao.wire.common import dump_json

# Canonical names that 001 spells otherwise.
_WIRE_NAMES = OCR_NAMES


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``recognize`` command to the CLI's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "recognize",
        help="read invoices from PDF, OFD and image files (no remote provider)",
        description="Read invoice files on this machine: the PDF text layer, the OFD "
        "XML, the QR code, and by OCR what is printed on photos and scans. A folder "
        "stands for its files, all the way down. Exit code 1 when a file cannot be read.",
    )
    parser.add_argument(
        "files", nargs="+", type=Path, metavar="FILE|DIR", help="invoice files or folders"
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON array (001 field names)"
    )
    return parser


def run(args: argparse.Namespace, settings: LocalHubSettings | None = None) -> int:
    """Recognize every file in ``args.files``; print the table or the JSON array."""
    entries: list[dict[str, Any]] = []
    for given in args.files:
        paths = files_of(given)
        if not paths:
            entries.append(_failed(given, Problem.FILE_UNREACHABLE, "no files in the folder"))
        for number, path in enumerate(paths, 1):
            with _Progress(f"{path} ({number}/{len(paths)})"):
                entries.append(_entry(path))
    if args.json:
        print(dump_json([{k: v for k, v in e.items() if k != "results"} for e in entries]))
    else:
        print(table(entries))
    failed = [e for e in entries if "error" in e]
    for entry in failed:
        print(f"fapiao recognize: {entry['file']}: {entry['error']['detail']}", file=sys.stderr)
    return 1 if failed else 0


def _entry(path: Path) -> dict[str, Any]:
    try:
        results = recognize_with_signatures(read_file(path))
    except CommandError as error:
        return _failed(path, Problem.FILE_UNREACHABLE, str(error).removeprefix(f"{path}: "))
    except HubError as error:
        return _failed(path, error.problem, str(error))
    return {
        "file": str(path),
        "invoices": [invoice_json(result, str(path)) for result in results],
        "results": results,
    }


class _Progress:
    """A line on stderr for a file still being read after ``after`` seconds, and one
    when it is done: OCR of a photo takes seconds, a PDF milliseconds."""

    def __init__(self, what: str, after: float = 1.0) -> None:
        self._what = what
        self._timer = threading.Timer(after, self._say)
        self._timer.daemon = True
        self._said = False
        self._started = 0.0

    def _say(self) -> None:
        self._said = True
        print(f"fapiao recognize: reading {self._what}…", file=sys.stderr, flush=True)

    def __enter__(self) -> None:
        self._started = time.monotonic()
        self._timer.start()

    def __exit__(self, *_: object) -> None:
        self._timer.cancel()
        self._timer.join()
        if self._said:
            seconds = time.monotonic() - self._started
            print(f"fapiao recognize: read {self._what} in {seconds:.1f} s", file=sys.stderr)


def _failed(path: Path, problem: Problem, detail: str) -> dict[str, Any]:
    return {
        "file": str(path),
        "invoices": [],
        "error": {"problem": problem.value, "detail": detail},
    }


def invoice_json(result: RecognizedInvoice, path: str) -> dict[str, Any]:
    """One recognized invoice as 001 names it, with its status, sources and warnings."""
    body: dict[str, Any] = {}
    invoice = result.invoice
    if invoice is not None:
        # 001 requires attachment_url and total_amount; a QR code of an old VAT invoice
        # carries only the pre-tax amount, so an unknown total is left out, not invented.
        complete = invoice.model_copy(
            update={
                "attachment_url": invoice.attachment_url or path,
                "total_amount": invoice.total_amount
                if invoice.total_amount is not None
                else Decimal(0),
            }
        )
        body = to_ocr_invoice(complete).to_wire(exclude_none=True)
        if invoice.total_amount is None:
            body.pop("total_amount", None)
    body["status"] = result.status.value
    body["sources"] = {
        _WIRE_NAMES.get(name, name): [source.value for source in sources]
        for name, sources in result.sources.items()
        if _WIRE_NAMES.get(name, name) in body
    }
    body["warnings"] = list(result.warnings)
    if result.reason is not None:
        body["reason"] = result.reason
    if result.page is not None:
        body["page"] = result.page
    if result.signature is not None:
        body["signature"] = result.signature.to_json()
    if result.confidence:
        body["confidence"] = {
            _WIRE_NAMES.get(name, name): score
            for name, score in result.confidence.items()
            if _WIRE_NAMES.get(name, name) in body
        }
    return body


def signature_line(check: SignatureCheck) -> str:
    """The table's line for a file's signatures: the state, then who signed or why."""
    words = [f"signature {check.state.value}"]
    if check.issuer_kind is not None:
        words.append(f"({check.issuer_kind.value})")
    if check.signer:
        words.append(f"signer {check.signer}")
    if check.reason:
        words.append(f"- {check.reason}")
    return " ".join(words)


_COLUMNS = ("file", "page", "status", "type", "code", "number", "date", "amount", "tax", "total")


def table(entries: list[dict[str, Any]]) -> str:
    """A plain table, one row per invoice, warnings and errors indented below."""
    rows: list[tuple[str, ...]] = [_COLUMNS]
    notes: dict[int, list[str]] = {}
    for entry in entries:
        name = Path(entry["file"]).name
        if "error" in entry:
            rows.append((name, "", "error", "", "", "", "", "", "", ""))
            notes[len(rows) - 1] = [f"{entry['error']['problem']}: {entry['error']['detail']}"]
            continue
        for result in entry["results"]:
            rows.append(_row(name, result))
            lines = [f"{result.reason}"] if result.reason else []
            invoice = result.invoice
            if invoice is not None:
                lines.append(f"buyer {invoice.buyer_name or '-'} {invoice.buyer_tax_code or ''}")
                lines.append(f"seller {invoice.seller_name or '-'} {invoice.seller_tax_code or ''}")
                lines.append(f"check code {invoice.check_code or '-'}")
            if result.signature is not None:
                lines.append(signature_line(result.signature))
            lines.extend(result.warnings)
            notes[len(rows) - 1] = lines
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
    out: list[str] = []
    for index, row in enumerate(rows):
        out.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        out.extend(f"    {line}" for line in notes.get(index, ()))
    return "\n".join(line.rstrip() for line in out)


def _row(name: str, result: RecognizedInvoice) -> tuple[str, ...]:
    invoice = result.invoice
    if invoice is None:
        return (name, str(result.page or ""), result.status.value, *([""] * 7))

    def text(value: object) -> str:
        return "" if value is None else str(value)

    return (
        name,
        text(result.page),
        result.status.value,
        to_platform_code(invoice.invoice_type),
        text(invoice.invoice_code),
        text(invoice.invoice_number),
        text(invoice.receipt_date),
        text(invoice.amount),
        text(invoice.tax_amount),
        text(invoice.total_amount),
    )
