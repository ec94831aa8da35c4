"""Turn every failure a handler can meet into a catalogue row, for any API family.

A handler never answers a stack trace or an unexplained 500: request validation errors,
unreadable JSON, Powertools Idempotency's refusals and the hub's own ``HubError`` each
become a ``Problem`` and a detail that names the field; anything else is INTERNAL,
logged with its trace and answered without it (``fapiao.api.responses.install_envelope``
answers each in the route family's envelope).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from pydantic import ValidationError

from fapiao.catalogue.errors import HubError, Problem
from fapiao.catalogue.types import TypeNotInVocabulary, UnknownTypeCode
from fapiao.dates import InvalidDate
from fapiao.wire.common import WireError


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
    if isinstance(error, ValidationError):
        return describe_validation_errors(error.errors())
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
    if isinstance(error, RequestValidationError | ValidationError):
        return Problem.INVALID_REQUEST, describe_validation_errors(error.errors())
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
    if isinstance(error, IdempotencyValidationError):
        return Problem.IDEMPOTENCY_CONFLICT, "the same bizId came with a different payload"
    if isinstance(error, IdempotencyAlreadyInProgressError):
        return Problem.REQUEST_IN_PROGRESS, "a request with this bizId is being processed"
    return Problem.INTERNAL, None
