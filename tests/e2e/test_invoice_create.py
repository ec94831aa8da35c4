"""invoice/create through a running local hub, as an expense platform's client calls it:
and what a client read held against what no invoice can say (400 with its own code,
nothing stored) and against the check it sent (F 907007, both sides kept)."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from contract.spec_examples import examples

from fapiao.wire.common import dump_json
from hubprocess import RunningHub, call, get, start_hub
from support import SPECS, Session

pytestmark = pytest.mark.slow
CREATE = "/common/invoice/create"
_numbers = itertools.count(10000001)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    running = start_hub(Path(tmp_path_factory.mktemp("hub")) / "data")
    yield running
    running.stop()


@pytest.fixture
def example() -> dict[str, Any]:
    """Spec 001's request example, for an invoice number no other test uses."""
    if not SPECS.is_dir():
        pytest.skip(f"the shared specs are not at {SPECS}")

    request = copy.deepcopy(examples("001")[0])
    number = str(next(_numbers))
    request["receipt_ocr"]["invoices"][0]["invoice_number"] = number
    request["receipt_check"]["invoice_num"] = number
    request["bizId"] = f"e2e-{number}"
    return request


def post(hub: RunningHub, body: dict[str, Any] | bytes) -> tuple[int, Any]:
    raw = body if isinstance(body, bytes) else dump_json(body).encode("utf-8")
    return call("POST", hub.url + CREATE, raw)


def stored_counts(hub: RunningHub) -> tuple[int, int]:
    dynamodb = Session(hub.aws).client("dynamodb")
    return tuple(  # type: ignore[return-value]
        dynamodb.scan(TableName=table, Select="COUNT")["Count"]
        for table in ("InvoicesTable", "ExpensesTable")
    )


def test_spec_example_creates_the_invoice_then_refuses_it_then_replays(
    hub: RunningHub, example: dict[str, Any]
) -> None:
    status, first = post(hub, example)
    assert status == 200
    assert first["resCode"] == 200000
    assert first["bizId"] == example["bizId"]
    assert first["data"]["invoice_status"] == "Y"
    expense_id = first["data"]["expense_id"]
    assert isinstance(expense_id, int)
    assert expense_id > 0

    again = {**example, "bizId": example["bizId"] + "-b"}
    status, second = post(hub, again)
    assert status == 200
    assert second["resCode"] == 200000
    assert second["data"] == {
        "expense_id": expense_id,
        "invoice_message": "发票已导入",
        "invoice_message_code": 907002,
        "invoice_status": "F",
    }

    status, replay = post(hub, {**example, "timestamp": example["timestamp"] + 1})
    assert (status, replay) == (200, first)


def test_same_biz_id_with_another_payload_is_a_conflict(
    hub: RunningHub, example: dict[str, Any]
) -> None:
    assert post(hub, example)[0] == 200
    changed = copy.deepcopy(example)
    changed["user_code"] = "someone.else"
    status, body = post(hub, changed)
    assert status == 409
    assert body["resCode"] == 409000
    assert body["bizId"] == example["bizId"]


@pytest.mark.alone
def test_32_concurrent_creates_of_one_invoice_make_one_expense(
    hub: RunningHub, example: dict[str, Any]
) -> None:
    invoices_before, expenses_before = stored_counts(hub)

    def create(i: int) -> tuple[int, Any]:
        return post(hub, {**example, "bizId": f"{example['bizId']}-{i}"})

    with ThreadPoolExecutor(max_workers=32) as pool:
        answers = list(pool.map(create, range(32)))

    assert all(status == 200 for status, _ in answers), [a for a in answers if a[0] != 200][:3]
    codes = sorted(str(body["data"]["invoice_message_code"]) for _, body in answers)
    assert codes == ["907002"] * 31 + ["None"]
    expense_ids = {body["data"]["expense_id"] for _, body in answers}
    assert len(expense_ids) == 1  # the duplicates name the one expense
    assert stored_counts(hub) == (invoices_before + 1, expenses_before + 1)


BAD_REQUESTS = [
    (b"{not json", "body is not valid JSON"),
    (
        b'{"bizId": "b", "timestamp": "yesterday", "user_code": "u", "receipt_ocr": '
        b'{"result": 1, "invoices": []}}',
        "timestamp",
    ),
    (b'{"bizId": "b", "timestamp": 1, "user_code": "u"}', "receipt_ocr"),
    (b"[1, 2]", "body"),
]


@pytest.mark.parametrize(("body", "named"), BAD_REQUESTS)
def test_malformed_requests_get_a_4xx_envelope_naming_the_field(
    hub: RunningHub, body: bytes, named: str
) -> None:
    before = stored_counts(hub)
    status, answer = post(hub, body)
    assert 400 <= status < 500
    assert answer["resCode"] == 400000
    assert named in answer["resMsg"]
    assert stored_counts(hub) == before


@pytest.mark.parametrize(
    ("change", "res_code", "named"),
    [
        (lambda r: r["receipt_ocr"]["invoices"][0].update(invoice_type="42"), 400103, "42"),
        (
            lambda r: r["receipt_ocr"]["invoices"][0].update(total_amount="abc"),
            400000,
            "receipt_ocr.invoices[0].total_amount",
        ),
        (
            lambda r: r["receipt_ocr"]["invoices"][0].update(receipt_date="20221340"),
            400000,
            "20221340",
        ),
        (lambda r: r.pop("receipt_check"), 400104, "receipt_check"),
        (
            lambda r: r["receipt_ocr"]["invoices"].append(r["receipt_ocr"]["invoices"][0]),
            400101,
            "receipt_ocr.invoices",
        ),
        (lambda r: r["receipt_ocr"]["invoices"][0].update(remark="备" * 1025), 400109, "remark"),
        (lambda r: r["receipt_ocr"]["invoices"][0].update(currency="XXX"), 400110, "currency"),
        (lambda r: r["receipt_ocr"]["invoices"][0].update(tax_amount=5), 400111, "total_amount"),
    ],
)
def test_broken_rules_are_refused_with_their_code_and_nothing_is_stored(
    hub: RunningHub, example: dict[str, Any], change: Any, res_code: int, named: str
) -> None:
    before = stored_counts(hub)
    change(example)
    status, answer = post(hub, example)
    assert 400 <= status < 500, answer
    assert answer["resCode"] == res_code
    assert named in answer["resMsg"]
    assert stored_counts(hub) == before


def test_detail_query_finds_the_invoice_by_number_and_by_expense(
    hub: RunningHub, example: dict[str, Any]
) -> None:
    _, created = post(hub, example)
    invoice = example["receipt_ocr"]["invoices"][0]
    status, by_number = get(
        f"{hub.url}/common/invoice/detail?invoice_code={invoice['invoice_code']}"
        f"&invoice_number={invoice['invoice_number']}"
    )
    assert status == 200
    (item,) = by_number["data"]
    assert item["ocrResult"]["invoice_num"] == invoice["invoice_number"]
    assert item["ocrResult"]["invoice_status"] == "Y"
    assert item["checkResult"]["sellerTaxCode"] == example["receipt_check"]["seller_tax_code"]
    status, by_expense = get(
        f"{hub.url}/common/invoice/detail?expense_id={created['data']['expense_id']}"
    )
    assert (status, by_expense["data"]) == (200, by_number["data"])
    status, missing = get(f"{hub.url}/common/invoice/detail?invoice_number=99999999999999999999")
    assert (status, missing["resCode"]) == (404, 404000)


# --- what was read, held against what no invoice can say and against its check ------


def detail(hub: RunningHub, request: dict[str, Any]) -> tuple[int, Any]:
    invoice = request["receipt_ocr"]["invoices"][0]
    return get(
        f"{hub.url}/common/invoice/detail?invoice_code={invoice['invoice_code']}"
        f"&invoice_number={invoice['invoice_number']}"
    )


def read(**fields: Any) -> Callable[[dict[str, Any]], None]:
    return lambda request: request["receipt_ocr"]["invoices"][0].update(fields)


@pytest.mark.parametrize(
    ("change", "res_code", "named"),
    [
        (read(total_amount=Decimal("1E+30")), 400114, "receipt_ocr.invoices[0].total_amount"),
        (read(total_amount=Decimal("-250")), 400113, "receipt_ocr.invoices[0].total_amount"),
        (read(receipt_date="20991231"), 400112, "receipt_ocr.invoices[0].receipt_date"),
    ],
    ids=["total_1E+30_vs_250", "total_-250_vs_250", "receipt_date_20991231"],
)
def test_what_no_invoice_says_is_refused_with_its_code_and_nothing_is_stored(
    hub: RunningHub,
    example: dict[str, Any],
    change: Callable[[dict[str, Any]], None],
    res_code: int,
    named: str,
) -> None:
    before = stored_counts(hub)
    change(example)
    assert example["receipt_check"]["total_amount"] == 250

    status, answer = post(hub, example)

    assert status == 400, answer
    assert answer["resCode"] == res_code
    assert answer["bizId"] == example["bizId"]
    assert named in answer["resMsg"]
    assert answer.get("data") is None  # no invoice_status at all, let alone Y
    assert stored_counts(hub) == before
    status, found = detail(hub, example)
    assert (status, found["resCode"]) == (404, 404000)


def test_1e30_reaches_the_hub_as_written(hub: RunningHub, example: dict[str, Any]) -> None:
    read(total_amount=Decimal("1E+30"))(example)
    body = dump_json(example).encode("utf-8")
    assert b'"total_amount": 1E+30' in body  # a JSON number, not a string
    status, answer = call("POST", hub.url + CREATE, body)
    assert (status, answer["resCode"]) == (400, 400114)
    assert "1E+30" in answer["resMsg"]


def test_a_reading_that_differs_from_its_check_is_stored_f_907007_with_both_sides(
    hub: RunningHub, example: dict[str, Any]
) -> None:
    read(amount=240, total_amount=240)(example)

    status, answer = post(hub, example)

    assert status == 200, answer
    assert answer["resCode"] == 200000
    data = answer["data"]
    assert (data["invoice_status"], data["invoice_message_code"]) == ("F", 907007)
    assert data["invoice_message"] == (
        "识别结果与查验结果不一致: amount 识别 240 / 查验 250; total_amount 识别 240 / 查验 250"
    )
    assert isinstance(data["expense_id"], int)

    status, found = detail(hub, example)
    assert status == 200
    (item,) = found["data"]
    assert item["ocrResult"]["invoice_status"] == "F"
    assert Decimal(str(item["ocrResult"]["amount"])) == 240  # 价税合计 as read
    assert Decimal(str(item["checkResult"]["totalAmount"])) == 250  # as checked


def test_a_check_of_another_invoice_number_is_still_refused(
    hub: RunningHub, example: dict[str, Any]
) -> None:
    before = stored_counts(hub)
    example["receipt_check"]["invoice_num"] = "99999999"
    status, answer = post(hub, example)
    assert (status, answer["resCode"]) == (400, 400106)
    assert stored_counts(hub) == before
