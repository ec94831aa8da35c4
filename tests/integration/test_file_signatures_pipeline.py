"""The S3 drop pipeline with the company's ``verify_file_signatures`` on (issue 15): a
LocalHub from template.yaml (moto runs statemachines/ingest.asl.json, its tasks answered
by the in-process handlers), files verified by the fake exocr on loopback. A file its
signature refuses ends REJECTED with its own code, its outcome event says which
signature, and the provider is never asked about it (the Choice sends an F straight to
Create). The company file is switched off in place for the tests that need it.

The ``Pipeline`` client is test_ingest_pipeline's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

import pytest
from fixtures.generate import InvoiceSpec, invoice_ofd, invoice_pdf
from fixtures.served import recent_invoice
from inprocess import local_hub
from unit.services.test_signature_enforcement import (
    corpus_file,
    with_a_printed_digit_changed,
    with_an_unsigned_document,
)

from fakes.exocr_server import FakeExocr, authority_says
from fapiao.model import InvoiceStatus
from fapiao.model.pipeline import DroppedObject, Outcome, OutcomeKind
from fapiao.model.signature import CheckState, IssuerKind, SignatureCheck
from hubprocess import call
from integration.test_ingest_pipeline import Pipeline, unique

pytestmark = pytest.mark.slow

ON = {"default_currency": "CNY", "verify_file_signatures": True}
OFF = {"default_currency": "CNY"}
SIGNATURE_CODES = {907016, 907017, 907018}
TEST_CA = "C=CN, CN=税务测试CA2(SM2)"


@pytest.fixture(scope="module")
def exocr() -> Iterator[FakeExocr]:
    with FakeExocr() as fake:
        yield fake


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory, exocr: FakeExocr) -> Iterator[Pipeline]:
    folder = tmp_path_factory.mktemp("signatures")
    company = folder / "company.json"
    company.write_text(json.dumps(ON), encoding="utf-8")
    env = {
        **exocr.hub_settings,
        "FAPIAO_EXOCR_ATTEMPTS": "1",
        "FAPIAO_COMPANY_FILE": str(company),
        "FAPIAO_IDENTIFIER": None,  # the embedded engine reads alone
    }
    with local_hub(folder, env) as hub:
        yield Pipeline(hub, company)


@contextmanager
def setting_off(pipeline: Pipeline) -> Iterator[None]:
    """The company turns verify_file_signatures off (the file is read at every call)."""
    pipeline.company_file.write_text(json.dumps(OFF), encoding="utf-8")
    try:
        yield
    finally:
        pipeline.company_file.write_text(json.dumps(ON), encoding="utf-8")


def key_of(spec: InvoiceSpec) -> str:
    return f"{spec.invoice_code}{spec.invoice_number}"


def only_outcome(pipeline: Pipeline, obj: DroppedObject) -> Outcome:
    assert pipeline.finished(obj)["status"] == "SUCCEEDED"
    (outcome,) = pipeline.outcomes(obj)
    return outcome


def entered_states(pipeline: Pipeline, obj: DroppedObject) -> set[str]:
    """The names of the states the object's execution entered (its history)."""
    sfn = pipeline.client("stepfunctions")
    (execution,) = pipeline.executions(obj)
    events = sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
    return {
        e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e
    }


def detail_query(pipeline: Pipeline, **query: str) -> list[dict[str, Any]]:
    status, answer = call(
        "GET",
        f"{pipeline.hub.url}/common/invoice/detail?{urlencode(query)}",
        api_key=pipeline.hub.dev_api_key,
    )
    assert status == 200, answer
    data: list[dict[str, Any]] = answer["data"]
    return data


# --- refused: no paid check, the outcome says which signature ---------------------------


def test_a_test_ca_ofd_dropped_is_rejected_907018_without_a_verify_call(
    pipeline: Pipeline, exocr: FakeExocr
) -> None:
    spec = recent_invoice(8101)
    obj = pipeline.drop(
        f"acme/{unique('test-ca.ofd')}", invoice_ofd(spec, signed_by="tax_bureau_test")
    )

    outcome = only_outcome(pipeline, obj)

    assert outcome.outcome is OutcomeKind.REJECTED
    assert (outcome.status, outcome.message_code) == (InvoiceStatus.CHECK_FAILED, 907018)
    assert outcome.message == f"发票文件由税务测试证书签名,不是正式发票: issuer {TEST_CA}"
    assert outcome.invoice_key == key_of(spec)
    assert outcome.signature is not None
    assert (outcome.signature.state, outcome.signature.issuer_kind) == (
        CheckState.VALID,
        IssuerKind.TAX_BUREAU_TEST,
    )
    assert exocr.calls_for(spec.invoice_number) == 0
    assert "Verify" not in entered_states(pipeline, obj)
    assert "Create" in entered_states(pipeline, obj)

    (event,) = pipeline.erp_events(obj)
    detail = event["detail"]
    assert (detail["outcome"], detail["status"], detail["message_code"]) == (
        "rejected",
        "F",
        907018,
    )
    assert detail["signature"]["state"] == "valid"
    assert detail["signature"]["issuer_kind"] == "tax_bureau_test"
    assert detail["signature"]["issuer"] == TEST_CA
    assert Outcome.model_validate(detail) == outcome

    stored = pipeline.invoices().get(key_of(spec))
    assert stored is not None
    assert (stored.status, stored.message_code) == (InvoiceStatus.CHECK_FAILED, "907018")
    assert stored.signature == outcome.signature  # kept in DynamoDB as it was checked


def test_the_corpus_test_ca_ofd_is_rejected_907018(pipeline: Pipeline, exocr: FakeExocr) -> None:
    data = corpus_file("ofdrw__ofdrw__999.ofd")
    calls = len(exocr.calls)
    obj = pipeline.drop(f"acme/{unique('999.ofd')}", data)

    outcome = only_outcome(pipeline, obj)

    assert (outcome.outcome, outcome.message_code) == (OutcomeKind.REJECTED, 907018)
    assert outcome.signature is not None
    assert outcome.signature.issuer_kind is IssuerKind.TAX_BUREAU_TEST
    assert outcome.signature.issuer == TEST_CA
    assert len(exocr.calls) == calls


def test_a_tampered_signed_ofd_is_rejected_907016(pipeline: Pipeline, exocr: FakeExocr) -> None:
    spec = recent_invoice(8102)
    tampered = with_a_printed_digit_changed(invoice_ofd(spec))
    obj = pipeline.drop(f"acme/{unique('tampered.ofd')}", tampered)

    outcome = only_outcome(pipeline, obj)

    assert (outcome.outcome, outcome.message_code) == (OutcomeKind.REJECTED, 907016)
    assert outcome.message and outcome.message.startswith("发票文件签名验证失败,文件已被篡改: ")
    assert "Content.xml" in outcome.message
    assert outcome.signature is not None and outcome.signature.state is CheckState.TAMPERED
    assert outcome.invoice_key == key_of(spec)  # read all the same
    assert exocr.calls_for(spec.invoice_number) == 0


def test_an_ofd_modified_after_signing_is_rejected_907017(
    pipeline: Pipeline, exocr: FakeExocr
) -> None:
    spec = recent_invoice(8103)
    obj = pipeline.drop(
        f"acme/{unique('modified.ofd')}", with_an_unsigned_document(invoice_ofd(spec))
    )

    outcome = only_outcome(pipeline, obj)

    assert (outcome.outcome, outcome.message_code) == (OutcomeKind.REJECTED, 907017)
    assert outcome.signature is not None
    assert outcome.signature.state is CheckState.MODIFIED_AFTER_SIGNING
    assert exocr.calls_for(spec.invoice_number) == 0


def test_didi_pdf_is_rejected_907017(pipeline: Pipeline) -> None:
    obj = pipeline.drop(
        f"acme/{unique('didi.pdf')}", corpus_file("yooongchun__Invoice2Excel__didi.pdf")
    )

    outcome = only_outcome(pipeline, obj)

    assert (outcome.outcome, outcome.message_code) == (OutcomeKind.REJECTED, 907017)
    assert outcome.signature is not None
    assert (outcome.signature.state, outcome.signature.algorithm) == (
        CheckState.MODIFIED_AFTER_SIGNING,
        "RSA-SHA1",
    )
    assert outcome.signature.issuer_kind is IssuerKind.COMMERCIAL_CA


# --- not refused: verified as ever, the outcome carries the signature --------------------


def test_a_normal_drops_outcome_carries_its_signature(pipeline: Pipeline, exocr: FakeExocr) -> None:
    spec = recent_invoice(8201)
    exocr.script(spec.invoice_number, authority_says(spec))
    obj = pipeline.drop(f"acme/{unique('signed.ofd')}", invoice_ofd(spec))

    outcome = only_outcome(pipeline, obj)

    assert (outcome.outcome, outcome.status) == (OutcomeKind.CREATED, InvoiceStatus.VERIFIED)
    assert exocr.calls_for(spec.invoice_number) == 1
    assert "Verify" in entered_states(pipeline, obj)
    assert outcome.signature is not None
    assert (outcome.signature.state, outcome.signature.issuer_kind) == (
        CheckState.VALID,
        IssuerKind.UNKNOWN,
    )
    (event,) = pipeline.erp_events(obj)
    assert event["detail"]["signature"]["issuer"] == "C=CN, CN=Test CA"
    assert event["detail"]["signature"]["signer"] == "C=CN, CN=Test Signer"

    # the detail query answers the stored signature
    (item,) = detail_query(
        pipeline, invoice_code=spec.invoice_code or "", invoice_number=spec.invoice_number
    )
    assert SignatureCheck.model_validate(item["signature"]) == outcome.signature


def test_an_unsigned_pdf_is_not_refused_and_says_absent(
    pipeline: Pipeline, exocr: FakeExocr
) -> None:
    spec = recent_invoice(8202)
    exocr.script(spec.invoice_number, authority_says(spec))
    obj = pipeline.drop(f"acme/{unique('unsigned.pdf')}", invoice_pdf(spec))

    outcome = only_outcome(pipeline, obj)

    assert (outcome.outcome, outcome.status) == (OutcomeKind.CREATED, InvoiceStatus.VERIFIED)
    assert outcome.signature is not None and outcome.signature.state is CheckState.ABSENT
    assert exocr.calls_for(spec.invoice_number) == 1
    assert pipeline.erp_events(obj)[0]["detail"]["signature"]["state"] == "absent"


def test_the_corpus_digital_pdf_and_tax_bureau_ofd_are_not_refused(pipeline: Pipeline) -> None:
    digital = pipeline.drop(
        f"acme/{unique('shudian.pdf')}", corpus_file("wanglia101511__tools__发票.pdf")
    )
    tax_bureau = pipeline.drop(
        f"acme/{unique('tax-bureau.ofd')}", corpus_file("ofdrw__ofdrw__SignScaleError.ofd")
    )

    for obj, state, kind in (
        (digital, CheckState.ABSENT, None),
        (tax_bureau, CheckState.VALID, IssuerKind.TAX_BUREAU),
    ):
        outcome = only_outcome(pipeline, obj)
        assert outcome.message_code not in SIGNATURE_CODES, outcome.message
        assert outcome.signature is not None
        assert (outcome.signature.state, outcome.signature.issuer_kind) == (state, kind)


def test_with_the_setting_off_a_test_ca_ofd_is_verified_and_created(
    pipeline: Pipeline, exocr: FakeExocr
) -> None:
    spec = recent_invoice(8301)
    exocr.script(spec.invoice_number, authority_says(spec))
    with setting_off(pipeline):
        obj = pipeline.drop(
            f"acme/{unique('test-ca-off.ofd')}", invoice_ofd(spec, signed_by="tax_bureau_test")
        )
        outcome = only_outcome(pipeline, obj)

    assert (outcome.outcome, outcome.status) == (OutcomeKind.CREATED, InvoiceStatus.VERIFIED)
    assert outcome.message_code is None
    assert exocr.calls_for(spec.invoice_number) == 1
    assert outcome.signature is not None
    assert outcome.signature.issuer_kind is IssuerKind.TAX_BUREAU_TEST  # said, not enforced
