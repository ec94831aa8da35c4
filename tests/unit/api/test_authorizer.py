"""The authorizer's event and policy, written out (fapiao.api.authorizer)."""

from __future__ import annotations

from fapiao.api.authorizer import AuthorizerRequest, policy

CHINA_ARN = "arn:aws-cn:execute-api:cn-north-1:123456789012:a1b2c3/v1/POST/common/invoice/create"


def event(headers: dict[str, str | None], arn: str = CHINA_ARN) -> dict[str, object]:
    return {
        "type": "REQUEST",
        "methodArn": arn,
        "path": "/common/invoice/create",
        "headers": headers,
    }


def test_a_header_is_found_whatever_its_case_and_a_null_one_is_absent() -> None:
    request = AuthorizerRequest.from_event(event({"X-API-Key": "k", "X-Other": None}))
    assert request.header("x-api-key") == "k"
    assert request.header("X-Api-Key") == "k"
    assert request.header("x-other") is None
    assert AuthorizerRequest.from_event({"methodArn": CHINA_ARN}).header("x-api-key") is None


def test_the_policy_covers_every_route_of_the_stage_in_the_requests_own_partition() -> None:
    request = AuthorizerRequest.from_event(event({}))
    allowed = policy(request, "acme", "Allow", {"client_id": "acme"}, usage_identifier_key="uk")
    assert allowed == {
        "principalId": "acme",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow",
                    "Resource": ["arn:aws-cn:execute-api:cn-north-1:123456789012:a1b2c3/v1/*/*"],
                }
            ],
        },
        "context": {"client_id": "acme"},
        "usageIdentifierKey": "uk",
    }


def test_a_refusal_denies_and_carries_no_usage_key() -> None:
    global_arn = "arn:aws:execute-api:us-east-1:1:api/prod/GET/health"
    denied = policy(AuthorizerRequest.from_event(event({}, global_arn)), "anonymous", "Deny", {})
    assert denied["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert denied["policyDocument"]["Statement"][0]["Resource"] == [
        "arn:aws:execute-api:us-east-1:1:api/prod/*/*"
    ]
    assert "usageIdentifierKey" not in denied
