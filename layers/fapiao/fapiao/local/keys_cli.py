"""`fapiao keys create NAME`: a client's API key, printed once, stored as its hash.

Against AWS (the default endpoint and credentials) or a local hub (``--aws URL``). With
``--usage-plan ID`` (the stack's ClientUsagePlanId output) it also makes the API Gateway
key the usage plan throttles the client by, and stores it as the client's usage key.
"""

from __future__ import annotations

import argparse
import datetime as dt
import secrets
from typing import Any

import boto3

from fapiao.store.api_keys import ApiClient, DynamoApiKeyStore, hash_key, new_key


def add_parser(commands: Any) -> None:
    keys = commands.add_parser("keys", help="manage client API keys")
    actions = keys.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="make a client's key (printed once)")
    create.add_argument("name", help="the client, in words")
    create.add_argument("--client-id", help="defaults to the name, lower case")
    create.add_argument("--table", required=True, help="the stack's ApiKeysTable name")
    create.add_argument("--usage-plan", help="the stack's ClientUsagePlanId output")
    create.add_argument("--aws", help="endpoint of a local hub's AWS; default: AWS itself")


def run(args: argparse.Namespace) -> int:
    session = boto3.session.Session()
    endpoint = {"endpoint_url": args.aws} if args.aws else {}
    key = new_key()
    client_id = args.client_id or args.name.strip().lower().replace(" ", "-")
    usage_key = None
    if args.usage_plan:
        apigateway = session.client("apigateway", **endpoint)
        usage_key = secrets.token_urlsafe(30)  # never shown: the authorizer names it
        created = apigateway.create_api_key(
            name=f"fapiao-{client_id}", enabled=True, value=usage_key
        )
        apigateway.create_usage_plan_key(
            usagePlanId=args.usage_plan, keyId=created["id"], keyType="API_KEY"
        )
    DynamoApiKeyStore(args.table, session.client("dynamodb", **endpoint)).put(
        ApiClient(
            key_hash=hash_key(key),
            client_id=client_id,
            name=args.name,
            created_at=dt.datetime.now(dt.UTC),
            usage_key=usage_key,
        )
    )
    print(f"client {client_id}: send this key as x-api-key (it is not stored, only its hash)")
    print(key)
    return 0
