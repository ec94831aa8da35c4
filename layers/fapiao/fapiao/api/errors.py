"""Turn every failure a handler can meet into a catalogue row, for any API family.

A handler never answers a stack trace or an unexplained 500: request validation errors,
unreadable JSON, Powertools Idempotency's refusals and the hub's own ``HubError`` each
become a ``Problem`` and a detail that names the field; anything else is INTERNAL,
logged with its trace and answered without it (``fapiao.api.responses.install_envelope``
answers each in the route family's envelope).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any, cast

from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from fapiao.catalogue.errors import HubError, Problem
from fapiao.catalogue.types import TypeNotInVocabulary, UnknownTypeCode
from fapiao.dates import InvalidDate
from fapiao.jsontext import WireError


def _location(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "response")]
    text = ""
    for part in parts:
        text += f"[{part}]" if part.isdigit() else (f".{part}" if text else part)
    return text or "body"


def describe_validation_errors(errors: Sequence[Mapping[str, Any]]) -> str:
    """Pydantic's errors as "field: message; field: message", wire names first."""
    described = []
    for error in errors[:10]:
        described.append(f"{_location(error.get('loc', ()))}: {error.get('msg', 'invalid')}")
    return "; ".join(described)


def describe_error(error: Exception) -> str:
    """What is wrong with an input, without its values (a form may hold a secret)."""
    errors = _validation_errors(error)
    if errors is not None:
        return describe_validation_errors(errors)
    if isinstance(error, KeyError):
        return f"missing {error}"
    return str(error)


_REQUEST_PARSING = "aws_lambda_powertools.event_handler.middlewares.openapi_validation"


def _raised_parsing_the_request(error: Exception) -> bool:
    """Raised by Powertools' request validation while it read the body (e.g. multipart
    without a boundary): the request's fault, not ours."""
    frame = error.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    return frame is not None and frame.tb_frame.f_globals.get("__name__") == _REQUEST_PARSING


def to_problem(error: Exception) -> tuple[Problem, str | None]:
    """The problem an exception stands for, and a detail safe to show the caller."""
    if isinstance(error, HubError):
        return error.problem, error.detail
    errors = _validation_errors(error)
    if errors is not None:
        return Problem.INVALID_REQUEST, describe_validation_errors(errors)
    if isinstance(error, WireError):
        return Problem.INVALID_REQUEST, str(error)
    if isinstance(error, RequestUnsupportedContentType):
        return Problem.UNSUPPORTED_MEDIA_TYPE, "send the body as application/json"
    if isinstance(error, UnicodeDecodeError):  # Powertools decodes the body before us
        return Problem.INVALID_REQUEST, "body is not UTF-8 text"
    if isinstance(error, UnknownTypeCode | TypeNotInVocabulary):
        return Problem.UNKNOWN_INVOICE_TYPE, str(error)
    if isinstance(error, InvalidDate):
        return Problem.INVALID_REQUEST, str(error)
    if isinstance(error, ValueError) and _raised_parsing_the_request(error):
        return Problem.INVALID_REQUEST, "the body does not match its Content-Type"
    return _idempotency_refusal(error) or (Problem.INTERNAL, None)


_IDEMPOTENCY = "aws_lambda_powertools.utilities.idempotency.exceptions"


def _validation_errors(error: Exception) -> Sequence[Mapping[str, Any]] | None:
    """The errors of Powertools' request validation or of a pydantic model; None for any
    other exception. Only code that has imported pydantic raises its ValidationError:
    a function that validates no model (health) answers without importing it (issue 13)."""
    if isinstance(error, RequestValidationError):
        return error.errors()
    pydantic = sys.modules.get("pydantic")
    if pydantic is not None and isinstance(error, pydantic.ValidationError):
        found: Sequence[Mapping[str, Any]] = cast(Any, error).errors()
        return found
    return None


def _idempotency_refusal(error: Exception) -> tuple[Problem, str] | None:
    """Powertools Idempotency's refusals. Only a function that uses Idempotency can
    raise them, and it has imported them: importing them here would load Idempotency,
    and boto3 with it, into every function's cold start (issue 13)."""
    idempotency = sys.modules.get(_IDEMPOTENCY)
    if idempotency is None:
        return None
    if isinstance(error, idempotency.IdempotencyValidationError):
        return Problem.IDEMPOTENCY_CONFLICT, "the same bizId came with a different payload"
    if isinstance(error, idempotency.IdempotencyAlreadyInProgressError):
        return Problem.REQUEST_IN_PROGRESS, "a request with this bizId is being processed"
    return None
