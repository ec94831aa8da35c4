"""`fapiao keys create NAME --role ROLE` and `fapiao keys list`: clients' API keys, each
printed once and stored as its hash with its role (``fapiao.api.roles`` says what each
role may call).

Against AWS (the default endpoint and credentials; ``--table`` is the stack's
ApiKeysTable output) or a local hub (``--data DIR`` or ``--aws URL``, found as every
command finds it: the table defaults to the template's ApiKeysTable). With
``--usage-plan ID`` (the stack's ClientUsagePlanId output) create also makes the API
Gateway key the usage plan throttles the client by, and stores it as the client's usage
key.

The region: ``--region``; for a local hub, its hub.json's, for AWS the one boto3 is
configured with; else the settings' (``FAPIAO_REGION``).

``--json`` (a contract, like a JSON shape): create prints exactly ``{"client_id",
"role", "api_key"}``; list prints an array of ``{"client_id", "name", "role",
"created_at", "disabled"}``. Neither ever shows a key's hash.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import secrets
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
)

from fapiao.clients import ApiClient, Role
from fapiao.local.locate import CommandError, add_hub_flags, locate
from fapiao.settings import LocalHubSettings
from fapiao.store.api_keys import DynamoApiKeyStore, hash_key, new_key

NEW_KEY_ROLE = Role.SUBMIT  # the least a client that sends invoices needs


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
        "--role",
        choices=[role.value for role in Role],
        default=NEW_KEY_ROLE.value,
        help=f"what the key may call (default: {NEW_KEY_ROLE.value}; see README, Roles)",
    )
    create.add_argument("--usage-plan", help="the stack's ClientUsagePlanId output")
    create.add_argument(
        "--json", action="store_true", help='print {"client_id", "role", "api_key"}'
    )
    listing = actions.add_parser(
        "list",
        help="every client's key: client, name, role, when made, disabled",
        description="List the clients' keys (never the keys or their hashes).",
    )
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    for parser in (create, listing):
        parser.add_argument(
            "--table",
            help="the stack's ApiKeysTable name (default for a local hub: the template's)",
        )
        add_hub_flags(parser)


def _name(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text


@dataclass(frozen=True)
class _Target:
    """Where the keys are: the table, the clients that reach it, and how failures read."""

    table: str
    client: Callable[[str], Any]
    talking: Callable[[], AbstractContextManager[None]]

    def store(self) -> DynamoApiKeyStore:
        return DynamoApiKeyStore(self.table, self.client("dynamodb"))


def _target(args: argparse.Namespace, settings: LocalHubSettings) -> _Target:
    if args.aws is not None or args.data is not None:
        hub = locate(args, settings)
        return _Target(args.table or hub.ref("ApiKeysTable"), hub.client, hub.talking)
    if args.table is None:
        raise CommandError(
            "--table is required against AWS (the stack's ApiKeysTable output); "
            "for a local hub pass --data DIR or --aws URL"
        )
    session = boto3.session.Session()
    region = args.region or session.region_name or settings.region

    def client(service: str) -> Any:
        return session.client(service, region_name=region)  # type: ignore[call-overload]

    return _Target(args.table, client, _aws)


def run(args: argparse.Namespace, settings: LocalHubSettings) -> int:
    target = _target(args, settings)
    if args.action == "list":
        return _list(args, target)
    return _create(args, target)


def _create(args: argparse.Namespace, target: _Target) -> int:
    key = new_key()
    client_id = args.client_id or args.name.strip().lower().replace(" ", "-")
    role = Role(args.role)
    usage_key = None
    with target.talking():
        if args.usage_plan:
            apigateway = target.client("apigateway")
            usage_key = secrets.token_urlsafe(30)  # never shown: the authorizer names it
            created = apigateway.create_api_key(
                name=f"fapiao-{client_id}", enabled=True, value=usage_key
            )
            apigateway.create_usage_plan_key(
                usagePlanId=args.usage_plan, keyId=created["id"], keyType="API_KEY"
            )
        target.store().put(
            ApiClient(
                key_hash=hash_key(key),
                client_id=client_id,
                name=args.name,
                created_at=dt.datetime.now(dt.UTC),
                usage_key=usage_key,
                role=role,
            )
        )
    if args.json:
        answer = {"client_id": client_id, "role": role.value, "api_key": key}
        print(json.dumps(answer, ensure_ascii=False))
        return 0
    print(
        f"client {client_id}, role {role.value}: send this key as x-api-key "
        "(it is not stored, only its hash)"
    )
    print(key)
    return 0


def _list(args: argparse.Namespace, target: _Target) -> int:
    with target.talking():
        clients = sorted(target.store().clients(), key=lambda c: (c.created_at, c.client_id))
    rows: list[dict[str, Any]] = [
        {
            "client_id": c.client_id,
            "name": c.name,
            "role": c.role.value,
            "created_at": c.created_at.isoformat(),
            "disabled": c.disabled,
        }
        for c in clients
    ]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    table = [["client", "name", "role", "created", "disabled"]] + [
        [r["client_id"], r["name"], r["role"], r["created_at"], "yes" if r["disabled"] else "no"]
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
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
