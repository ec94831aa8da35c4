"""Each handler's cold start loads only what its own requests need (issue 13).

Every function of template.yaml is imported in a fresh interpreter, as a new Lambda
container imports it (tracing on, so Tracer patches what it patches in Lambda), and the
modules it loaded are checked against what it must not load. The times themselves are
bench/cold_start.py's business; this keeps the graphs from growing back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from fapiao.local.template import FunctionDef, Template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = Template(ROOT / "template.yaml")

# Loaded on first use by the functions that need them, never at a cold start:
# recognition (PDFium, the QR decoder, images, OCR), the HTTP providers and httpx, the
# libraries X-Ray would patch if it patched everything (it patches botocore only).
NEVER_AT_START = (
    "pypdfium2",
    "zxingcpp",
    "PIL",
    "numpy",
    "cv2",
    "onnxruntime",
    "rapidocr_onnxruntime",
    "defusedxml",
    "fapiao.recognize.pdf",
    "fapiao.recognize.ofd",
    "fapiao.recognize.image",
    "fapiao.recognize.ocr",
    "fapiao.recognize.photo",
    "httpx",
    "fapiao.providers.exocr",
    "fapiao.providers.yipiaoyun",
    "fapiao.providers.fetch",
    "fapiao.providers.client",
    "requests",
    "sqlite3",
    "aws_xray_sdk.ext.httpx",
    "aws_xray_sdk.ext.sqlite3",
)

# The authorizer runs before every request and health answers load balancers: no
# pydantic, no boto3 (botocore's clients are the same), no model, no resolver.
BARE = (
    "pydantic",
    "boto3",
    "fapiao.model",
    "fapiao.wire",
    "fapiao.results",
    "fapiao.mapping",
    "fapiao.recognize",
    "aws_lambda_powertools.utilities.idempotency",
    "aws_lambda_powertools.utilities.parameters",
    "aws_lambda_powertools.event_handler",  # one route, or none, needs no resolver
    "aws_lambda_powertools.utilities.data_classes",  # every event class Powertools has
)
ONLY_BARE = {"AuthorizerFunction": BARE, "HealthFunction": BARE}

# Each API family's wire models: a function loads its own family's only.
WIRE_FAMILIES = {
    "platform": ("fapiao.wire.ocr_sync", "fapiao.wire.invoice_create", "fapiao.wire.review"),
    "maycur": ("fapiao.wire.maycur",),
    "exocr": ("fapiao.wire.exocr",),
    "yipiaoyun": ("fapiao.wire.yipiaoyun",),
}
FAMILY_OF = {
    "OcrSyncFunction": "platform",
    "InvoiceCreateFunction": "platform",
    "InvoiceDetailFunction": "platform",
    "ReviewFunction": "platform",
    "ImportInvoicePicFunction": "maycur",
    "VerifyFunction": "exocr",
    "VerifyTaskFunction": "exocr",  # the same module: the pipeline's step
    "IdentifyFunction": "yipiaoyun",
}
# Powertools Idempotency loads boto3's resource layer: the create function builds it at
# its first request, no function at a cold start.
IDEMPOTENT: set[str] = set()


def _functions() -> list[FunctionDef]:
    seen: set[tuple[str, str]] = set()
    unique = []
    for function in TEMPLATE.functions:
        key = (str(function.code_uri), function.handler.split(".")[0])  # one module, once
        if key not in seen:
            seen.add(key)
            unique.append(function)
    return unique


@cache
def modules_loaded_by(logical_id: str) -> frozenset[str]:
    """The modules a fresh interpreter holds after importing the function's handler."""
    function = next(f for f in TEMPLATE.functions if f.logical_id == logical_id)
    module = function.handler.split(".")[0]
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_REGION": "cn-north-1",
        "AWS_DEFAULT_REGION": "cn-north-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_LAMBDA_FUNCTION_NAME": logical_id,
        "LAMBDA_TASK_ROOT": str(ROOT),  # Powertools: in Lambda, tracing on
        "POWERTOOLS_SERVICE_NAME": "fapiao",
        "PYTHONPATH": str(ROOT / "layers" / "fapiao"),
    }
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT / function.code_uri,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return frozenset(json.loads(done.stdout.strip().splitlines()[-1]))


def _loaded(modules: frozenset[str], names: tuple[str, ...]) -> list[str]:
    """Which of ``names`` (a package stands for its submodules too) were loaded."""
    return sorted(n for n in names if any(m == n or m.startswith(n + ".") for m in modules))


FUNCTIONS = [f.logical_id for f in _functions()]


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_nothing_loaded_at_a_cold_start_that_is_loaded_on_first_use(logical_id: str) -> None:
    assert _loaded(modules_loaded_by(logical_id), NEVER_AT_START) == []


@pytest.mark.parametrize("logical_id", sorted(ONLY_BARE))
def test_the_authorizer_and_health_load_no_pydantic_boto3_or_model(logical_id: str) -> None:
    modules = modules_loaded_by(logical_id)
    assert _loaded(modules, ONLY_BARE[logical_id]) == []
    assert "botocore.session" in modules  # they do talk to AWS, through botocore


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_a_function_loads_the_wire_models_of_its_own_family_only(logical_id: str) -> None:
    own = WIRE_FAMILIES.get(FAMILY_OF.get(logical_id, ""), ())
    others = tuple(m for family in WIRE_FAMILIES.values() for m in family if m not in own)
    assert _loaded(modules_loaded_by(logical_id), others) == []


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_idempotency_is_loaded_by_the_function_that_uses_it(logical_id: str) -> None:
    loaded = _loaded(
        modules_loaded_by(logical_id), ("aws_lambda_powertools.utilities.idempotency",)
    )
    assert bool(loaded) == (logical_id in IDEMPOTENT)


def test_tracing_patches_botocore_at_start_and_nothing_else() -> None:
    """X-Ray's patch of everything would import httpx, sqlite3... into every function."""
    modules = modules_loaded_by("VerifyFunction")
    patched = sorted(m for m in modules if m.startswith("aws_xray_sdk.ext.") and m.count(".") == 2)
    assert patched == [
        "aws_xray_sdk.ext.boto_utils",
        "aws_xray_sdk.ext.botocore",
        "aws_xray_sdk.ext.util",
    ]
