"""Adapter: load CompanySettings from a file (local) or SSM via Powertools Parameters."""

from __future__ import annotations

import json

from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.exceptions import (
    GetParameterError,
    TransformParameterError,
)
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
            raw = parameters.get_parameter(
                settings.company_parameter, transform="json", max_age=CACHE_SECONDS
            )
        else:
            raw = {}
        return CompanySettings.model_validate(raw)
    except (
        OSError,
        ValueError,
        ValidationError,
        GetParameterError,
        TransformParameterError,
    ) as error:
        # The caller did nothing wrong: an internal error, retryable once fixed.
        raise HubError(Problem.INTERNAL, f"company settings unusable: {error}") from error
