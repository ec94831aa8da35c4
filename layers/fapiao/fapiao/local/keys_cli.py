"""`fapiao keys create NAME`: a client's API key, printed once, stored as its hash.

Against AWS (the default endpoint and credentials; ``--table`` is the stack's
ApiKeysTable output) or a local hub (``--data DIR`` or ``--aws URL``, found as every
command finds it: the table defaults to the template's ApiKeysTable). With
``--usage-plan ID`` (the stack's ClientUsagePlanId output) it also makes the API Gateway
key the usage plan throttles the client by, and stores it as the client's usage key.

The region: ``--region``; for a local hub, its hub.json's, for AWS the one boto3 is
configured with; else the settings' (``FAPIAO_REGION``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import secrets
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import boto3
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
)

from fapiao.clients import ApiClient
from fapiao.local.locate import CommandError, add_hub_flags, locate
from fapiao.settings import LocalHubSettings
from fapiao.store.api_keys import DynamoApiKeyStore, hash_key, new_key


def add_parser(commands: Any) -> None:
    keys = commands.add_parser("keys", help="manage client API keys")
    actions = keys.add_subparsers(dest="action", required=True)
    create = actions.add_parser(
        "create",
        help="make a client's key (printed once)",
        description="Make a client's API key, in AWS or (with --data or --aws) in a local hub.",
    )
    create.add_argument("name", type=_name, help="the client, in words")
    create.add_argument("--client-id", type=_name, help="defaults to the name, lower case")
    create.add_argument(
        "--table", help="the stack's ApiKeysTable name (default for a local hub: the template's)"
    )
    create.add_argument("--usage-plan", help="the stack's ClientUsagePlanId output")
    add_hub_flags(create)


def _name(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text


def run(args: argparse.Namespace, settings: LocalHubSettings) -> int:
    local = args.aws is not None or args.data is not None
    client: Callable[[str], Any]
    talking: Callable[[], AbstractContextManager[None]]
    if local:
        hub = locate(args, settings)
        table = args.table or hub.ref("ApiKeysTable")
        client, talking = hub.client, hub.talking
    else:
        if args.table is None:
            raise CommandError(
                "--table is required against AWS (the stack's ApiKeysTable output); "
                "for a local hub pass --data DIR or --aws URL"
            )
        session = boto3.session.Session()
        region = args.region or session.region_name or settings.region
        table = args.table

        def client(service: str) -> Any:
            return session.client(service, region_name=region)  # type: ignore[call-overload]

        talking = _aws
    key = new_key()
    client_id = args.client_id or args.name.strip().lower().replace(" ", "-")
    usage_key = None
    with talking():
        if args.usage_plan:
            apigateway = client("apigateway")
            usage_key = secrets.token_urlsafe(30)  # never shown: the authorizer names it
            created = apigateway.create_api_key(
                name=f"fapiao-{client_id}", enabled=True, value=usage_key
            )
            apigateway.create_usage_plan_key(
                usagePlanId=args.usage_plan, keyId=created["id"], keyType="API_KEY"
            )
        DynamoApiKeyStore(table, client("dynamodb")).put(
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


@contextmanager
def _aws() -> Iterator[None]:
    """AWS's failures, one line each."""
    try:
        yield
    except NoCredentialsError:
        raise CommandError(
            "no AWS credentials (configure them, e.g. aws configure; for a local hub pass "
            "--data DIR or --aws URL)"
        ) from None
    except EndpointConnectionError as error:
        raise CommandError(f"cannot reach AWS: {error}") from None
    except ClientError as error:
        detail = error.response.get("Error", {})
        raise CommandError(
            f"AWS refused: {detail.get('Code', 'error')}: {detail.get('Message', '')}"
        ) from None
    except BotoCoreError as error:
        raise CommandError(f"AWS failed: {error}") from None
