"""`fapiao ocr`: the file goes where ocrSync reads it and the pipeline does not, the request
is 000's, and each invoice of the answer is one line."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from fapiao.local import cli
from fapiao.local.locate import CommandError, api_key
from fapiao.local.ocr_cli import OCR_PREFIX, invoice_line, ocr_key, request_body
from fapiao.services.drops import IDENTIFY_PREFIX
from fapiao.settings import LocalHubSettings
from fapiao.wire.ocr_sync import OcrSyncRequest


def test_the_file_goes_under_a_prefix_the_s3_drop_skips() -> None:
    key = ocr_key(Path("/scans/发票 1:2.pdf"), b"%PDF-1.7")
    assert key.startswith(OCR_PREFIX) and OCR_PREFIX.startswith(IDENTIFY_PREFIX)
    digest, name = key.removeprefix(OCR_PREFIX).split("/")
    assert len(digest) == 16 and name == "发票_1_2.pdf"  # no ':' a URL scheme could be read in
    assert ocr_key(Path("a.pdf"), b"other bytes") != ocr_key(Path("a.pdf"), b"%PDF-1.7")


@pytest.mark.parametrize(("create", "user_code", "flag"), [(False, None, "N"), (True, "MK1", "Y")])
def test_the_request_is_000s(create: bool, user_code: str | None, flag: str) -> None:
    body = request_body("identify/ocr/0123/a.pdf", create, user_code)
    request = OcrSyncRequest.model_validate(body)
    options = request.options
    assert options.attachment_url == "identify/ocr/0123/a.pdf"
    assert (options.create_expense, options.user_code) == (create, user_code)
    assert body["create_expense"] == flag
    assert len(request.biz_id) <= 36


def test_an_invoice_of_the_answer_is_one_line() -> None:
    element = {
        "ocrResult": {
            "invoice_type": "10",
            "invoice_status": "C",
            "invoice_code": "033022100211",
            "invoice_num": "68552329",
            "amount": Decimal("996.00"),
        },
        "checkResult": None,
    }
    assert invoice_line(0, element) == (
        "0\tC\t\t\t03302210021168552329\t10 增值税电子普通发票\t996.00\t"
    )


def test_an_expense_of_the_answer_is_one_line() -> None:
    element = {
        "expense_id": 41981033,
        "invoice_message": "发票已导入:\n重复",
        "invoice_message_code": 907002,
        "invoice_status": "F",
    }
    assert invoice_line(2, element) == "2\tF\t907002\t发票已导入: 重复\t\t\t\t41981033"


def test_create_without_a_user_code_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.pdf").write_bytes(b"%PDF-1.7")
    code = cli.main(["ocr", str(tmp_path / "a.pdf"), "--create", "--data", str(tmp_path)])
    assert code == 2
    assert capsys.readouterr().err == (
        "fapiao ocr: --create needs --user-code CODE (000: 当create_expense为Y时必传)\n"
    )


def test_the_api_key_is_the_hubs_development_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FAPIAO_DEV_API_KEY", raising=False)
    args = cli._parser(LocalHubSettings.from_env()).parse_args(
        ["ocr", "a.pdf", "--data", str(tmp_path)]
    )
    with pytest.raises(CommandError, match="no API key"):
        api_key(args, LocalHubSettings.from_env())
    (tmp_path / "dev-api-key").write_text("k" * 40 + "\n", encoding="utf-8")
    assert api_key(args, LocalHubSettings.from_env()) == "k" * 40
    monkeypatch.setenv("FAPIAO_DEV_API_KEY", "e" * 20)
    assert api_key(args, LocalHubSettings.from_env()) == "e" * 20
