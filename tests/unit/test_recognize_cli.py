"""`fapiao recognize FILE... [--json]`: a table for people, 001-named JSON for programs."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from fixtures.generate import invoice_ofd, invoice_pdf, qr_photo, rail_spec, vat_spec

from fapiao.local import recognize_cli
from fapiao.wire.common import load_json


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="fapiao")
    recognize_cli.add_parser(parser.add_subparsers(dest="command", required=True))
    return recognize_cli.run(parser.parse_args(argv))


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    made = {
        "pdf": (tmp_path / "a.pdf", invoice_pdf(vat_spec(51), rail_spec(52))),
        "ofd": (tmp_path / "b.ofd", invoice_ofd(vat_spec(53))),
        "photo": (tmp_path / "c.jpg", qr_photo([vat_spec(54).qr_payload()], size=(700, 500))),
        "blank": (tmp_path / "d.png", qr_photo([], size=(300, 200), fmt="PNG")),
        "junk": (tmp_path / "e.pdf", b"not an invoice at all"),
    }
    for path, data in made.values():
        path.write_bytes(data)
    return {name: path for name, (path, _) in made.items()}


def test_json_is_one_array_an_element_per_file(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    paths = [files["pdf"], files["ofd"], files["photo"], files["blank"]]
    assert _run(["recognize", "--json", *map(str, paths)]) == 0
    output = load_json(capsys.readouterr().out)
    assert [entry["file"] for entry in output] == [str(p) for p in paths]
    vat, rail = output[0]["invoices"]
    spec = vat_spec(51)
    assert vat["invoice_type"] == "10"
    assert vat["invoice_code"] == spec.invoice_code
    assert vat["invoice_number"] == spec.invoice_number
    assert vat["receipt_date"] == spec.receipt_date.strftime("%Y%m%d")
    assert vat["amount"] == spec.amount  # an exact Decimal, not a float
    assert vat["total_amount"] == spec.total_amount
    assert vat["check_code"] == spec.check_code
    assert vat["seller_tax_code"] == spec.seller_tax_code
    assert vat["status"] == "I"
    assert vat["sources"]["invoice_number"] == ["text_layer", "qr"]
    assert vat["warnings"] == []
    assert rail["invoice_type"] == "67"
    assert rail["name"] == rail_spec(52).passenger_name  # 001's name for the passenger
    (ofd,) = output[1]["invoices"]
    assert ofd["signature"] == "intact"
    assert ofd["sources"]["invoice_code"] == ["ofd_xml", "ofd_text", "qr"]
    (photo,) = output[2]["invoices"]
    assert "total_amount" not in photo  # the QR code of an old invoice carries no total
    assert photo["amount"] == vat_spec(54).amount
    (blank,) = output[3]["invoices"]
    assert blank["status"] == "U"
    assert blank["reason"]


def test_unreadable_file_is_an_error_entry_and_exit_code_1(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    missing = files["pdf"].parent / "missing.pdf"
    assert _run(["recognize", "--json", str(files["junk"]), str(missing), str(files["ofd"])]) == 1
    junk, gone, ofd = load_json(capsys.readouterr().out)
    assert junk["error"]["problem"] == "unsupported_file_type"
    assert junk["invoices"] == []
    assert gone["error"]["problem"] == "file_unreachable"
    assert ofd["invoices"][0]["status"] == "I"


def test_table_for_people(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["recognize", str(files["pdf"]), str(files["blank"]), str(files["junk"])]) == 1
    out = capsys.readouterr().out
    header, *rest = out.splitlines()
    assert header.split() == list(recognize_cli._COLUMNS)
    assert vat_spec(51).invoice_number in out
    assert rail_spec(52).invoice_number in out
    assert "unsupported_file_type" in out
    assert any(line.split()[:2] == ["d.png", "U"] for line in rest if line and line[0] != " ")
