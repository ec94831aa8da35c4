"""`fapiao recognize FILE|DIR... [--json]`: a table for people, 001-named JSON for programs;
a folder is its files; a file that cannot be read is one line on stderr, never a traceback."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from fixtures.generate import invoice_ofd, invoice_pdf, qr_photo, rail_spec, vat_spec

from fapiao.local import cli, recognize_cli
from fapiao.wire.common import load_json


def _run(argv: list[str]) -> int:
    return cli.main(argv)


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
    signature = ofd["signature"]
    assert signature["state"] == "valid"
    assert signature["issuer_kind"] == "unknown"  # the tests' own "Test CA"
    assert dt.datetime.fromisoformat(signature["signed_at"]).tzinfo is not None
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
    captured = capsys.readouterr()
    junk, gone, ofd = load_json(captured.out)
    assert junk["error"]["problem"] == "unsupported_file_type"
    assert junk["invoices"] == []
    assert gone["error"] == {"problem": "file_unreachable", "detail": "no such file"}
    assert ofd["invoices"][0]["status"] == "I"
    # one line on stderr per file that could not be read, and no traceback
    assert captured.err.splitlines() == [
        f"fapiao recognize: {files['junk']}: {junk['error']['detail']}",
        f"fapiao recognize: {missing}: no such file",
    ]


def test_a_folder_is_its_regular_files_all_the_way_down_sorted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "scans"
    (folder / "2024" / "05").mkdir(parents=True)
    (folder / ".sent").mkdir()
    (folder / "z.ofd").write_bytes(invoice_ofd(vat_spec(61)))
    (folder / "2024" / "b.pdf").write_bytes(invoice_pdf(vat_spec(62)))
    (folder / "2024" / "05" / "a.pdf").write_bytes(invoice_pdf(vat_spec(63)))
    (folder / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")  # hidden: left out
    (folder / ".sent" / "old.pdf").write_bytes(b"left out")  # a hidden folder: left out
    os.mkfifo(folder / "pipe.pdf")  # not a regular file: left out (reading it would block)

    assert _run(["recognize", "--json", str(folder)]) == 0

    output = load_json(capsys.readouterr().out)
    assert [entry["file"] for entry in output] == [
        str(folder / "2024" / "05" / "a.pdf"),
        str(folder / "2024" / "b.pdf"),
        str(folder / "z.ofd"),
    ]
    numbers = [entry["invoices"][0]["invoice_number"] for entry in output]
    assert numbers == [vat_spec(n).invoice_number for n in (63, 62, 61)]


def test_a_folder_without_files_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty" / ".hidden").mkdir(parents=True)
    assert _run(["recognize", "--json", str(tmp_path / "empty")]) == 1
    captured = capsys.readouterr()
    (entry,) = load_json(captured.out)
    assert entry["error"]["problem"] == "file_unreachable"
    assert captured.err == f"fapiao recognize: {tmp_path / 'empty'}: no files in the folder\n"


def test_no_file_named_is_a_usage_line_and_exit_code_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _run(["recognize", "--json"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("fapiao recognize: the following arguments are required: FILE|DIR")


def test_table_for_people(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["recognize", str(files["pdf"]), str(files["blank"]), str(files["junk"])]) == 1
    out = capsys.readouterr().out
    header, *rest = out.splitlines()
    assert header.split() == list(recognize_cli._COLUMNS)
    assert vat_spec(51).invoice_number in out
    assert rail_spec(52).invoice_number in out
    assert "unsupported_file_type" in out
    assert any(line.split()[:2] == ["d.png", "U"] for line in rest if line and line[0] != " ")
