"""boto3 clients with the hub's timeouts, one per service and process.

The endpoint is botocore's own business: in AWS the regional one, in the local hub
``AWS_ENDPOINT_URL`` points every client at the local AWS. Only the endpoint differs.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(
    connect_timeout=2,
    read_timeout=10,
    retries={"mode": "standard", "max_attempts": 3},
)


@cache
def client(service: str) -> Any:
    return boto3.session.Session().client(service, config=_CONFIG)  # type: ignore[call-overload]
