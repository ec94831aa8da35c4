"""A file whose recognition really crashes its worker process (a segfault, as a bug in a
native library would) ends with a clear outcome, and the hub goes on serving: the next
file is created, the API answers, and the crashed worker has been replaced."""

from __future__ import annotations

import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fixtures.generate import invoice_pdf
from fixtures.served import recent_invoice
from inprocess import local_hub

from fapiao.model.pipeline import OutcomeKind
from integration.test_ingest_pipeline import Pipeline

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    folder = tmp_path_factory.mktemp("crash")
    company = folder / "company.json"
    company.write_text('{"default_currency": "CNY"}', encoding="utf-8")
    env = {"FAPIAO_COMPANY_FILE": str(company), "FAPIAO_IDENTIFIER": None}
    with local_hub(
        folder, env, recognition_workers=1, recognition_target="crash_targets:misbehave"
    ) as hub:
        yield Pipeline(hub, Path(company))


def test_a_file_that_crashes_its_worker_fails_alone(pipeline: Pipeline) -> None:
    workers = pipeline.hub._workers
    before = list(workers.pids)

    crashing = pipeline.drop(f"acme/{uuid.uuid4().hex[:8]}-bad.pdf", b"%PDF-1.7 segfault ")
    assert pipeline.finished(crashing)["status"] == "SUCCEEDED"
    (outcome,) = pipeline.outcomes(crashing)
    assert outcome.outcome is OutcomeKind.UNRECOGNISABLE
    assert outcome.message is not None and "crashed (signal 11" in outcome.message

    assert workers.pids != before  # the crashed worker was replaced
    spec = recent_invoice(7301)
    good = pipeline.drop(f"acme/{uuid.uuid4().hex[:8]}-good.pdf", invoice_pdf(spec))
    assert pipeline.finished(good)["status"] == "SUCCEEDED"
    (created,) = pipeline.outcomes(good)
    assert created.outcome is OutcomeKind.CREATED
    with urllib.request.urlopen(f"{pipeline.hub.url}/health", timeout=30) as answer:
        assert answer.status == 200
