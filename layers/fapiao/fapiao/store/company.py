"""Adapter: load CompanySettings from a file (local) or SSM via Powertools Parameters.

Parameters is imported when the settings name a parameter: it loads boto3 (~15 ms of a
cold start, issue 13), which a hub reading a file never needs.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from pydantic import ValidationError

from fapiao import aws
from fapiao.catalogue.errors import HubError, Problem
from fapiao.settings import CompanySettings, HubSettings

CACHE_SECONDS = 300  # a changed parameter reaches warm functions within five minutes


def load_company_settings(settings: HubSettings) -> CompanySettings:
    """The company settings the rules read; a malformed value is a configuration error."""
    try:
        if settings.company_file is not None:
            raw = json.loads(settings.company_file.read_text(encoding="utf-8"))
        elif settings.company_parameter:
            raw = _parameter(settings.company_parameter)
        else:
            raw = {}
        return CompanySettings.model_validate(raw)
    except (OSError, ValueError, ValidationError) as error:
        # The caller did nothing wrong: an internal error, retryable once fixed.
        raise HubError(Problem.INTERNAL, f"company settings unusable: {error}") from error


_provider: Any = None
_provider_lock = threading.Lock()


def _parameter(name: str) -> Any:
    """The parameter's JSON, cached by Parameters; ValueError when it cannot be had.

    One SSMProvider per process, made under a lock with the hub's SSM client: Powertools'
    ``get_parameter`` makes its default provider on first use without one, so a burst of
    first calls on several threads (the local hub's containers) made one each, every one
    loading boto3's service model (an eighth of the local hub's CPU in a 200-file burst)."""
    global _provider
    from aws_lambda_powertools.utilities.parameters import SSMProvider
    from aws_lambda_powertools.utilities.parameters.exceptions import (
        GetParameterError,
        TransformParameterError,
    )

    client = aws.client("ssm")
    with _provider_lock:
        if _provider is None or _provider[0] is not client:  # a new client: a new endpoint
            _provider = (client, SSMProvider(boto3_client=client))
        provider = _provider[1]
    try:
        return provider.get(name, transform="json", max_age=CACHE_SECONDS)
    except (GetParameterError, TransformParameterError) as error:
        raise ValueError(str(error)) from error
