"""Logging for the hub's functions: Powertools Logger, with personal data masked.

Invoices carry personal data (a passenger's ID number on rail and flight tickets, phone
numbers in addresses and ride-hailing itineraries). Whatever a log line holds, its
message or its extra keys, the formatter masks resident ID numbers and mainland mobile
numbers before the line is written.
"""

from __future__ import annotations

import re
from typing import Any

from aws_lambda_powertools import Logger
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
