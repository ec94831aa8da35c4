"""Logging and tracing for the hub's functions: Powertools Logger, with personal data
masked, and Tracer.

Invoices carry personal data (a passenger's ID number on rail and flight tickets, phone
numbers in addresses and ride-hailing itineraries). Whatever a log line holds, its
message or its extra keys, the formatter masks resident ID numbers and mainland mobile
numbers before the line is written.
"""

from __future__ import annotations

import re
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.logging.types import PowertoolsLogRecord

# 18-character resident ID (17 digits + digit or X), standing alone.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")
# Mainland mobile numbers, with an optional +86 / 86 prefix, standing alone.
_MOBILE = re.compile(r"(?<!\d)((?:\+?86[- ]?)?1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask_personal_data(text: str) -> str:
    """'110101199003071234' -> '110101********1234'; '13944433849' -> '139****3849'."""
    text = _ID_NUMBER.sub(lambda m: f"{m.group(1)}********{m.group(2)}", text)
    return _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)


class MaskingFormatter(LambdaPowertoolsFormatter):
    def serialize(self, log: dict[str, Any] | PowertoolsLogRecord) -> str:
        return mask_personal_data(super().serialize(log))


def hub_logger(**options: Any) -> Logger:
    """The Logger every function uses (service name from POWERTOOLS_SERVICE_NAME)."""
    return Logger(logger_formatter=MaskingFormatter(), **options)


# X-Ray patches only what the layer calls at every request: botocore (every AWS call).
# Powertools' default patches every library X-Ray knows, importing each one installed
# (httpx, sqlite3, ...) at a cold start: ~80 ms. The HTTP providers patch httpx when
# their client is built (``trace_httpx``).
_PATCHED_AT_START = ("botocore",)


def hub_tracer() -> Tracer:
    """The Tracer every function uses (Powertools; disabled outside Lambda)."""
    return Tracer(auto_patch=True, patch_modules=_PATCHED_AT_START)


def trace_httpx() -> None:
    """Have X-Ray trace httpx from now on (idempotent; nothing when tracing is off)."""
    Tracer(auto_patch=False).patch(modules=("httpx",))  # a bare Tracer() patches all
