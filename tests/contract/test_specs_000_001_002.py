"""Specs 000, 001 and 002: every JSON example parses into its model and round-trips.

Round trip: example -> ``load_json`` -> ``Model.model_validate`` -> ``to_json()`` (wire
names) -> ``load_json``, compared with the example. Normalisations allowed, and only
these:
- a field the model declares (from the spec's tables) that the example leaves out comes
  back as null;
- 002's request writes ``allInvoiceBindToOneExpense`` as "true"; it comes back as true.
Numbers are compared as JSON text, so 996.00 must come back as 996.00 and 250 as 250.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import simplejson
from pydantic import ValidationError

from contract.spec_examples import SpecExample, located_examples
from fapiao.model import InvoiceStatus
from fapiao.wire.common import StrictWireModel, WireModel, load_json
from fapiao.wire.invoice_create import CreateRequest, CreateResponse, ExpenseResult
from fapiao.wire.maycur import (
    ImportInvoicePicRequest,
    ImportInvoicePicResponse,
    InvoiceDto,
    ValidateStatus,
)
from fapiao.wire.ocr_sync import OcrSyncItem, OcrSyncRequest, OcrSyncResponse

# The examples of each spec in document order, and the model each one is.
MODELS: dict[str, list[type[WireModel]]] = {
    "000": [OcrSyncRequest, OcrSyncResponse, OcrSyncResponse],
    "001": [CreateRequest, CreateResponse],
    "002": [ImportInvoicePicRequest, ImportInvoicePicResponse],
}


def _cases() -> list[Any]:
    cases = []
    for prefix, models in MODELS.items():
        found = located_examples(prefix)
        # A new or lost example must not go untested silently.
        assert len(found) == len(models), f"spec {prefix}: {len(found)} examples"
        for example, model in zip(found, models, strict=True):
            cases.append(pytest.param(example, model, id=f"{example.id}-{model.__name__}"))
    return cases


CASES = _cases()


def _leaf(value: Any) -> str:
    return str(simplejson.dumps(value, use_decimal=True, ensure_ascii=False))


def assert_same_wire(original: Any, produced: Any, path: str = "$") -> None:
    """``produced`` says what ``original`` says; extra keys only as null."""
    if isinstance(original, dict):
        assert isinstance(produced, dict), f"{path}: {produced!r} is not an object"
        for key, value in original.items():
            assert key in produced, f"{path}.{key} is missing"
            assert_same_wire(value, produced[key], f"{path}.{key}")
        for key in produced.keys() - original.keys():
            assert produced[key] is None, f"{path}.{key} added with {produced[key]!r}"
    elif isinstance(original, list):
        assert isinstance(produced, list), f"{path}: {produced!r} is not an array"
        assert len(produced) == len(original), f"{path}: length differs"
        for index, (left, right) in enumerate(zip(original, produced, strict=True)):
            assert_same_wire(left, right, f"{path}[{index}]")
    else:
        assert _leaf(produced) == _leaf(original), f"{path}: {produced!r} != {original!r}"


def _normalised(example: SpecExample) -> Any:
    """The example with the one normalisation 002's request needs: "true" -> true."""
    value = example.value
    flag = value.get("allInvoiceBindToOneExpense")
    if isinstance(flag, str):
        return {**value, "allInvoiceBindToOneExpense": flag == "true"}
    return value


@pytest.mark.parametrize(("example", "model"), CASES)
def test_example_round_trips(example: SpecExample, model: type[WireModel]) -> None:
    parsed = model.model_validate(example.value)
    produced = load_json(parsed.to_json())
    assert_same_wire(_normalised(example), produced)


def test_response_models_are_strict_and_request_models_tolerant() -> None:
    for models in MODELS.values():
        for model in models:
            strict = issubclass(model, StrictWireModel)
            assert strict == model.__name__.endswith("Response"), model.__name__


# --- what the examples say, read through the models ---------------------------------


def test_000_request_example_nests_fields_under_data() -> None:
    request = OcrSyncRequest.model_validate(located_examples("000")[0].value)
    options = request.options
    assert options.attachment_url == "xx.pdf"
    assert options.create_expense is True
    assert options.purchase_invoice is False
    assert options.user_code == "xx"


def test_000_request_fields_at_top_level_as_the_table_says() -> None:
    request = OcrSyncRequest.model_validate(
        {"bizId": "b", "timestamp": "1659685330206", "attachment_url": "a.pdf"}
    )
    assert request.timestamp == 1659685330206
    assert request.options.attachment_url == "a.pdf"
    assert request.options.create_expense is False  # N is the default
    assert request.options.purchase_invoice is False


def test_000_request_field_that_differs_in_both_places_is_refused() -> None:
    with pytest.raises(ValidationError, match="create_expense differs"):
        OcrSyncRequest.model_validate(
            {
                "bizId": "b",
                "timestamp": 1,
                "create_expense": "N",
                "data": {"attachment_url": "a.pdf", "create_expense": "Y"},
            }
        )


def test_000_request_without_attachment_url_is_refused() -> None:
    with pytest.raises(ValidationError, match="attachment_url is required"):
        OcrSyncRequest.model_validate({"bizId": "b", "timestamp": 1, "data": {}})


@pytest.mark.parametrize(("given", "read"), [("y", True), (True, True), ("N", False), ("", False)])
def test_000_create_expense_is_read_tolerantly(given: object, read: bool) -> None:
    request = OcrSyncRequest.model_validate(
        {"bizId": "b", "timestamp": 1, "attachment_url": "a", "create_expense": given}
    )
    assert request.options.create_expense is read


def test_000_create_expense_other_than_y_or_n_is_refused() -> None:
    with pytest.raises(ValidationError):
        OcrSyncRequest.model_validate(
            {"bizId": "b", "timestamp": 1, "attachment_url": "a", "create_expense": "maybe"}
        )


def test_000_response_data_elements_are_told_apart() -> None:
    first, second = (located_examples("000")[i].value for i in (1, 2))
    ocr = OcrSyncResponse.model_validate(first)
    expense = OcrSyncResponse.model_validate(second)
    assert ocr.data is not None
    assert expense.data is not None
    assert isinstance(ocr.data[0], OcrSyncItem)
    assert isinstance(expense.data[0], ExpenseResult)
    item = ocr.data[0]
    assert item.ocr_result is not None
    assert item.check_result is not None
    assert item.ocr_result.amount == Decimal("996.00")
    assert str(item.ocr_result.amount) == "996.00"  # the scale survives
    assert item.ocr_result.invoice_status is InvoiceStatus.RECOGNIZING
    assert item.check_result.receipt_date == 1712707200000
    assert expense.data[0].invoice_status is InvoiceStatus.CHECK_FAILED


def test_000_response_refuses_an_element_of_neither_shape() -> None:
    with pytest.raises(ValidationError):
        OcrSyncResponse.model_validate({"resCode": 200000, "data": [{"surprise": 1}]})


def test_001_request_example_reads_as_the_table_says() -> None:
    request = CreateRequest.model_validate(located_examples("001")[0].value)
    assert request.biz_id == "1659685330206"
    assert request.receipt_ocr.time_cost == "1360"
    (invoice,) = request.receipt_ocr.invoices
    assert invoice.total_amount == Decimal(250)
    assert invoice.receipt_date == "20220627"
    assert request.receipt_check is not None
    assert request.receipt_check.check_date == "2022-07-21T17:07:42.000Z"
    assert request.receipt_check.cancellation_mark == "N"
    assert request.receipt_check.detail_list is not None
    assert request.receipt_check.detail_list[0].price == Decimal(250)


def test_001_request_takes_numbers_as_strings_and_ignores_unknown_fields() -> None:
    request = CreateRequest.model_validate(
        {
            "bizId": 1659685330206,  # a number where a string is due
            "timestamp": "1659685330206",
            "user_code": "u",
            "something_new": True,
            "receipt_ocr": {
                "result": "1",
                "invoices": [
                    {
                        "attachment_url": "a.pdf",
                        "invoice_type": 10,
                        "total_amount": "996.00",
                        "highway_flag": "y",
                        "flight_detail": [{"from": "PEK", "to": "SHA", "time": "8:05"}],
                    }
                ],
            },
        }
    )
    assert request.biz_id == "1659685330206"
    invoice = request.receipt_ocr.invoices[0]
    assert invoice.invoice_type == "10"
    assert str(invoice.total_amount) == "996.00"
    assert invoice.highway_flag == "Y"
    assert invoice.flight_detail is not None
    assert invoice.flight_detail[0].from_ == "PEK"
    assert invoice.flight_detail[0].to_wire()["from"] == "PEK"


def test_001_invoices_must_be_a_list_of_any_length() -> None:
    base = {"bizId": "b", "timestamp": 1, "user_code": "u"}
    two = {"attachment_url": "a", "invoice_type": "10", "total_amount": 1}
    request = CreateRequest.model_validate(
        {**base, "receipt_ocr": {"result": 1, "invoices": [two, two]}}
    )
    assert len(request.receipt_ocr.invoices) == 2  # "exactly one" is a rule, not schema
    with pytest.raises(ValidationError):
        CreateRequest.model_validate({**base, "receipt_ocr": {"result": 1, "invoices": two}})


@pytest.mark.parametrize("code", [907002, "907002"])
def test_001_invoice_message_code_may_be_a_number_or_a_string(code: object) -> None:
    response = CreateResponse.model_validate(
        {
            "resCode": 200000,
            "resMsg": "success",
            "bizId": "b",
            "data": {"invoice_message_code": code},
        }
    )
    assert response.data is not None
    assert response.data.invoice_message_code == 907002
    assert load_json(response.to_json())["data"]["invoice_message_code"] == 907002


def test_001_response_data_is_an_object() -> None:
    with pytest.raises(ValidationError):
        CreateResponse.model_validate({"resCode": 200000, "data": [{"expense_id": 1}]})


@pytest.mark.parametrize(("given", "read"), [("true", True), ("false", False), (False, False)])
def test_002_all_invoice_bind_to_one_expense_reads_strings_and_booleans(
    given: object, read: bool
) -> None:
    request = ImportInvoicePicRequest.model_validate(
        {"fileType": "PDF", "employeeId": "MK00001", "allInvoiceBindToOneExpense": given}
    )
    assert request.all_invoice_bind_to_one_expense is read


def test_002_request_needs_file_type_and_employee() -> None:
    with pytest.raises(ValidationError):
        ImportInvoicePicRequest.model_validate({"fileUrl": "https://x/y.pdf"})


def test_002_response_example_keeps_maycur_spelling_and_types() -> None:
    response = ImportInvoicePicResponse.model_validate(located_examples("002")[1].value)
    assert response.data is not None
    (dto,) = response.data
    assert isinstance(dto, InvoiceDto)
    assert dto.validate_status is ValidateStatus.VALIDATED
    assert dto.issue_date == 1719417600000
    assert str(dto.total_price_and_tax) == "4.00"
    assert dto.approved_tax_amount is not None
    assert dto.approved_tax_amount.amount_str == "¥0.00"
    assert dto.ticket_data is not None
    assert dto.ticket_data.drawer == "田定河"
    wire = dto.to_wire()
    for name in ("verificaitonChannel", "taxDedectCode", "invoicePDFUrl", "thumUrl"):
        assert name in wire or name in wire["attachments"][0], name


def test_response_models_refuse_fields_they_do_not_declare() -> None:
    with pytest.raises(ValidationError):
        InvoiceDto.model_validate({"invoiceDataCode": "x", "madeUp": 1})
