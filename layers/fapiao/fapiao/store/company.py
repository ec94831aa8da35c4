"""Adapter: load CompanySettings from a file (local) or SSM via Powertools Parameters.

Parameters is imported when the settings name a parameter: it loads boto3 (~15 ms of a
cold start, issue 13), which a hub reading a file never needs.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

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


def _parameter(name: str) -> Any:
    """The parameter's JSON, cached by Parameters; ValueError when it cannot be had."""
    from aws_lambda_powertools.utilities import parameters
    from aws_lambda_powertools.utilities.parameters.exceptions import (
        GetParameterError,
        TransformParameterError,
    )

    try:
        return parameters.get_parameter(name, transform="json", max_age=CACHE_SECONDS)
    except (GetParameterError, TransformParameterError) as error:
        raise ValueError(str(error)) from error
