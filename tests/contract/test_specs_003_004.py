"""Specs 003 and 004: every JSON example parses into its model and round-trips exactly.

Round trip: example -> ``load_json`` -> ``Model.model_validate`` -> the fields it was
given, by wire name (``exclude_unset``) -> ``dump_json`` -> ``load_json``, compared with
the example. No normalisation: misspelt names (``productO_oil_flag``), the examples'
own names where they contradict the tables (``amountWithTax``, ``sellerTaxNo``,
``machineNumber``), explicit nulls (``"version": null``) and numbers kept as strings
("1300.00") all come back as they were.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from contract.spec_examples import SpecExample, located_examples
from fapiao.wire import exocr, yipiaoyun
from fapiao.wire.common import StrictWireModel, WireModel, dump_json, load_json

Y = yipiaoyun

# The examples of each spec in document order: the model and, for a result, its data.
EXPECTED: dict[str, list[tuple[type[WireModel], type[BaseModel] | None]]] = {
    "003": [(exocr.VerifyResponse, exocr.VatData)],
    "004": [
        (Y.SendByImageUrlRequest, None),
        (Y.SendResponse, None),  # sendByImageUrl success
        (Y.SendResponse, None),  # sendByImageUrl failure
        (Y.SendResponse, None),  # sendByImageFile success
        (Y.SendResponse, None),  # sendByImageFile failure
        (Y.ResultRequest, None),
        (Y.ResultResponse, Y.VatResult),  # typed "10102", amountWithTax
        (Y.ResultResponse, Y.TaxiResult),
        (Y.ResultResponse, Y.TrainResult),
        (Y.ResultResponse, Y.MachinePrintedResult),  # typed 6001
        (Y.ResultResponse, Y.RollResult),
        (Y.ResultResponse, Y.QuotaResult),
        (Y.ResultResponse, Y.TollResult),
        (Y.ResultResponse, Y.BusResult),
        (Y.ResultResponse, Y.FlightItineraryResult),
        (Y.ResultResponse, Y.UsedCarResult),
        (Y.ResultResponse, Y.MotorVehicleResult),  # sellerTaxNo, machineNumber
        (Y.ResultResponse, Y.ReceiptResult),
        (Y.ResultResponse, Y.TaxCertificateResult),  # typed 6001 too
        (Y.ResultResponse, Y.RideHailingResult),  # typed 2002
        (Y.ResultResponse, None),  # failure
    ],
}


def _cases() -> list[Any]:
    cases = []
    for prefix, expected in EXPECTED.items():
        found = located_examples(prefix)
        # A new or lost example must not go untested silently.
        assert len(found) == len(expected), f"spec {prefix}: {len(found)} examples"
        for example, (model, data_model) in zip(found, expected, strict=True):
            name = model.__name__ + (f"-{data_model.__name__}" if data_model else "")
            cases.append(pytest.param(example, model, data_model, id=f"{example.id}-{name}"))
    return cases


CASES = _cases()


def _given_fields(model: BaseModel) -> Any:
    return model.model_dump(mode="python", by_alias=True, exclude_unset=True)


@pytest.mark.parametrize(("example", "model", "data_model"), CASES)
def test_example_parses_into_its_model_and_round_trips(
    example: SpecExample, model: type[WireModel], data_model: type[BaseModel] | None
) -> None:
    parsed = model.model_validate(example.value)
    holder = parsed.result if isinstance(parsed, exocr.VerifyResponse) else parsed
    data = getattr(holder, "data", None)
    if data_model is not None:
        assert type(data) is data_model
    elif isinstance(parsed, exocr.VerifyResponse | Y.ResultResponse):
        assert data is None
    produced = load_json(dump_json(_given_fields(parsed)))
    assert produced == example.value


def test_response_models_are_strict_and_request_models_tolerant() -> None:
    for expected in EXPECTED.values():
        for model, _ in expected:
            strict = issubclass(model, StrictWireModel)
            assert strict == model.__name__.endswith("Response"), model.__name__


# --- 003 ---------------------------------------------------------------------------


def _exocr_example() -> dict[str, Any]:
    value: dict[str, Any] = located_examples("003")[0].value
    return value


def test_003_example_keeps_misspelt_names_and_numbers_as_text() -> None:
    response = exocr.VerifyResponse.model_validate(_exocr_example())
    assert response.result is not None
    data = response.result.data
    assert isinstance(data, exocr.VatData)
    assert data.productO_oil_flag == "N"
    assert data.total == "1300.00"
    assert data.detail_list is not None
    assert data.detail_list[0].tax_rate == "9"
    assert response.result.image_base64 == "data:image/jpg;base64,#####"
    assert response.result.result_code == 1
    assert response.version is None


def test_003_data_with_a_field_of_no_schema_is_refused() -> None:
    example = _exocr_example()
    example["result"]["data"]["surprise"] = "1"
    with pytest.raises(ValidationError):
        exocr.VerifyResponse.model_validate(example)


def test_003_numbers_sent_as_json_numbers_keep_their_text() -> None:
    example = _exocr_example()
    example["result"]["data"]["total"] = load_json("1300.00")
    response = exocr.VerifyResponse.model_validate(example)
    assert response.result is not None
    assert isinstance(response.result.data, exocr.VatData)
    assert response.result.data.total == "1300.00"


@pytest.mark.parametrize(
    ("data", "schema"),
    [
        ({"invoice_type": "10", "total": "1"}, exocr.VatData),
        ({"invoice_type": "160"}, exocr.VatData),
        ({"invoice_type": "60", "detail_list": [{"item": "a", "unit_prcie": "1"}]}, exocr.RollData),
        ({"invoice_type": "50", "tounit_name": "s"}, exocr.MotorVehicleData),
        ({"invoice_type": "70", "selier_name": "s", "Used_car_market": "m"}, exocr.UsedCarData),
        ({"invoice_type": "80", "equio_no": "e"}, exocr.TollData),
        ({"detail_list": [{"txr_from": "20230101"}]}, exocr.TollData),
        ({"invoice_type": "110", "train_no": "G1"}, exocr.RailTicketData),
        ({"domestic_or_intl": "D"}, exocr.FlightItineraryData),
        ({"detail_list": [{"from": "SHA", "flight_no": "MU5101"}]}, exocr.FlightItineraryData),
        ({"Usedcar_matker_phone": "1"}, exocr.UsedCarData),
    ],
)
def test_003_data_schema_is_picked_by_its_fields_and_type(
    data: dict[str, Any], schema: type[BaseModel]
) -> None:
    result = exocr.VerifyResult.model_validate({"data": data, "result_code": 1})
    assert type(result.data) is schema
    assert _given_fields(result)["data"] == data


def test_003_flight_detail_from_is_a_python_keyword_but_from_on_the_wire() -> None:
    detail = exocr.FlightDetail.model_validate({"from": "SHA", "to": "PEK"})
    assert detail.from_ == "SHA"
    assert _given_fields(detail) == {"from": "SHA", "to": "PEK"}


def test_003_request_form_round_trips_and_leaves_absent_fields_out() -> None:
    form = {
        "app_key": "k",
        "app_secret": "s",
        "invoice_type": "01",
        "invoice_no": "12345678",
        "invoice_code": "044031900111",
        "total": "1300.00",
        "create_date": "20210121",
        "want_image": "1",
        "check_code_last6": "",
    }
    request = exocr.VerifyRequest.from_form(form)
    assert request.want_image == 1
    assert request.check_code_last6 is None
    assert request.to_form() == {k: v for k, v in form.items() if v}


# --- 004 ---------------------------------------------------------------------------


def _result_example(invoice_type: str) -> dict[str, Any]:
    for example in located_examples("004"):
        data = example.value.get("data")
        if isinstance(data, dict) and data.get("invoiceType") == invoice_type:
            value: dict[str, Any] = example.value
            return value
    raise LookupError(invoice_type)


def test_004_unknown_type_code_parses_as_other_and_keeps_its_fields() -> None:
    response = Y.ResultResponse.model_validate(
        {"code": 0, "data": {"invoiceType": "9999", "invoiceNo": "1"}}
    )
    assert isinstance(response.data, Y.OtherResult)
    assert _given_fields(response)["data"] == {"invoiceType": "9999", "invoiceNo": "1"}


def test_004_data_with_a_field_of_no_table_is_refused() -> None:
    example = _result_example("5000")
    example["data"]["surprise"] = "1"
    with pytest.raises(ValidationError):
        Y.ResultResponse.model_validate(example)


def test_004_6001_without_machine_printed_fields_is_a_tax_certificate() -> None:
    data = Y.ResultResponse.model_validate(
        {"code": 0, "data": {"invoiceType": "6001", "invoiceNo": "1", "totalAmount": "2"}}
    ).data
    assert isinstance(data, Y.TaxCertificateResult)


def test_004_example_only_names_are_not_written_when_empty() -> None:
    vat = Y.VatResult(invoiceType="1000", totalAmount="3.00")
    motor = Y.MotorVehicleResult(invoiceType="1004", sellerNumber="x")
    assert "amountWithTax" not in vat.model_dump(by_alias=True)
    assert "totalAmount" in vat.model_dump(by_alias=True)
    assert {"sellerTaxNo", "machineNumber"}.isdisjoint(motor.model_dump(by_alias=True))
