"""API Gateway's REQUEST authorizer: the few fields of its event the hub reads, and the
IAM policy it answers with.

Written out rather than taken from Powertools' data classes: importing those loads
every event class Powertools knows (zipfile, tempfile ...), ~15 ms of a cold start for
two small dicts, and the authorizer runs before every API request (issue 13). The
shapes are API Gateway's (developer guide, "Output from an API Gateway Lambda
authorizer"): one statement on ``execute-api:Invoke`` for every route of the stage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Self

__all__ = ["AuthorizerRequest", "policy"]


@dataclass(frozen=True)
class AuthorizerRequest:
    """The request an authorizer is asked about."""

    path: str
    method_arn: str  # arn:<partition>:execute-api:<region>:<account>:<api>/<stage>/<verb>/<path>
    headers: Mapping[str, str]  # names in lower case: HTTP header names ignore case

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> Self:
        headers = event.get("headers") or {}
        return cls(
            path=str(event.get("path") or ""),
            method_arn=str(event.get("methodArn") or ""),
            headers={str(k).lower(): str(v) for k, v in headers.items() if v is not None},
        )

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def every_route(self) -> str:
        """The ARN of every route of the stage the request came to, in the request's own
        partition (aws-cn in China): ``arn:...:<api>/<stage>/*/*``."""
        api_and_stage = "/".join(self.method_arn.split("/")[:2])
        return f"{api_and_stage}/*/*"


def policy(
    request: AuthorizerRequest,
    principal: str,
    effect: Literal["Allow", "Deny"],
    context: Mapping[str, str],
    usage_identifier_key: str | None = None,
) -> dict[str, Any]:
    """The authorizer's answer: ``effect`` on every route of the stage for ``principal``,
    with ``context`` for the gateway's responses and the function behind the route."""
    answer: dict[str, Any] = {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": effect,
                    "Resource": [request.every_route],
                }
            ],
        },
        "context": dict(context),
    }
    if usage_identifier_key:
        answer["usageIdentifierKey"] = usage_identifier_key
    return answer
