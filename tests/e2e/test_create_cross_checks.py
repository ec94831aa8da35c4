"""invoice/create through a running local hub: what a client read is held against what
no invoice can say (400 with its own code, nothing stored) and against the check it sent
(F 907007, both sides kept)."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterator
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
_numbers = itertools.count(20000001)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    running = start_hub(Path(tmp_path_factory.mktemp("hub")) / "data")
    yield running
    running.stop()


@pytest.fixture
def example() -> dict[str, Any]:
    """Spec 001's request example (its check says 250), for a number no other test uses."""
    if not SPECS.is_dir():
        pytest.skip(f"the shared specs are not at {SPECS}")
    request: dict[str, Any] = copy.deepcopy(examples("001")[0])
    number = str(next(_numbers))
    request["receipt_ocr"]["invoices"][0]["invoice_number"] = number
    request["receipt_check"]["invoice_num"] = number
    request["bizId"] = f"e2e-x-{number}"
    return request


def post(hub: RunningHub, body: dict[str, Any]) -> tuple[int, Any]:
    return call("POST", hub.url + CREATE, dump_json(body).encode("utf-8"))


def stored_counts(hub: RunningHub) -> tuple[int, int]:
    dynamodb = Session(hub.aws).client("dynamodb")
    return tuple(  # type: ignore[return-value]
        dynamodb.scan(TableName=table, Select="COUNT")["Count"]
        for table in ("InvoicesTable", "ExpensesTable")
    )


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
