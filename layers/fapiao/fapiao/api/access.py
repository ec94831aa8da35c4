"""The role check every API handler runs first: a known key outside its role
(``fapiao.api.roles``) is refused with 403 in the route family's envelope, with the
catalogue's FORBIDDEN row, before the resolver reads or validates anything.

Why here, in each ``lambda_handler`` before ``app.resolve``:

- Not in the authorizer: a Deny is API Gateway's ACCESS_DENIED gateway response, and a
  gateway response has one fixed status (401 here: an unknown key). The authorizer
  allows every known key and names its ``role`` in its context; this check reads it.
- Not a Powertools middleware: with ``enable_validation`` the resolver validates the
  request (body, query, path) before any middleware runs, so a submit key posting
  garbage to the review API would get 400 instead of 403. Checked before ``resolve``,
  nothing of the request is looked at but its route and the authorizer's context.

An event without an authorizer context is not checked: API Gateway always puts one on a
route with an authorizer, so only a direct invocation (IAM's ``lambda:InvokeFunction``,
trusted already; the tests) comes without one. A context that names no role is a key's
from before roles (or an authorizer deployed before them): admin, as the key table reads
such a key. A role the hub does not know is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from fapiao.api.envelopes import family_for_path
from fapiao.api.responses import request_envelope
from fapiao.api.roles import allows
from fapiao.catalogue.errors import Problem, lookup
from fapiao.clients import Role
from fapiao.jsontext import dump_json

__all__ = ["refuse_outside_role", "role_named"]

logger = Logger(child=True)
metrics = Metrics()


def role_named(context: Mapping[str, Any]) -> Role | None:
    """The role an authorizer's context names: admin when it names none, None when it
    names one the hub does not know."""
    value = context.get("role")
    if value is None:
        return Role.ADMIN
    try:
        return Role(str(value))
    except ValueError:
        return None


def refuse_outside_role(event: Mapping[str, Any]) -> dict[str, Any] | None:
    """None when the caller's role may call the event's route; otherwise the 403 proxy
    response (the family's envelope, FORBIDDEN). Call it before ``app.resolve``."""
    context = (event.get("requestContext") or {}).get("authorizer")
    if not context:
        return None
    route = str(event.get("resource") or event.get("path") or "")
    role = role_named(context)
    if role is not None and allows(role, route):
        return None
    family = family_for_path(route)
    entry = lookup(family, Problem.FORBIDDEN)
    detail = f"role {context.get('role') or Role.ADMIN.value} may not call {route}"
    logger.info(
        "request refused",
        extra={
            "problem": Problem.FORBIDDEN.value,
            "detail": detail,
            "client_id": context.get("client_id"),
        },
    )
    metrics.add_metric(name="RequestsRefused", unit=MetricUnit.Count, value=1)
    body = request_envelope(family, entry, detail, APIGatewayProxyEvent(dict(event)))
    return {
        "statusCode": entry.http_status,
        "headers": {"Content-Type": "application/json"},
        "body": dump_json(body),
        "isBase64Encoded": False,
    }
