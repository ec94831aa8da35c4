"""AWS clients with the hub's timeouts, one per service and process.

The endpoint is botocore's own business: in AWS the regional one, in the local hub
``AWS_ENDPOINT_URL`` points every client at the local AWS. Only the endpoint differs.

The clients are botocore's, which boto3's ``client()`` returns too: importing boto3
on top costs a cold start ~15 ms (s3transfer, the resource layer) that no client here
uses (issue 13). Each client gets a session of its own, as boto3's did: a botocore
session is not safe to share between threads while it creates clients.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import botocore.session
from botocore.config import Config

_CONFIG = Config(
    connect_timeout=2,
    read_timeout=10,
    retries={"mode": "standard", "max_attempts": 3},
)


# The local hub's in-process route to its AWS (fapiao.local.aws.LocalAws.attach): given
# each new client, it answers the client's requests without HTTP. None in Lambda.
_route: Callable[[Any], None] | None = None


def route_through(attach: Callable[[Any], None] | None) -> None:
    """Route new clients through ``attach`` (the local hub), or over HTTP again (None)."""
    global _route
    _route = attach
    client.cache_clear()


def routed(made: Any) -> Any:
    """``made`` (a botocore client), through the local hub's route when there is one."""
    if _route is not None:
        _route(made)
    return made


class _Clients:
    """``client(service)``: one client per service, made once even when several threads
    ask for it first at once (``functools.cache`` would let each make its own: in the
    local hub's first burst a dozen containers each loaded the same service model)."""

    def __init__(self) -> None:
        self._made: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __call__(self, service: str) -> Any:
        made = self._made.get(service)
        if made is None:
            with self._lock:
                made = self._made.get(service)
                if made is None:
                    created = botocore.session.Session().create_client(service, config=_CONFIG)
                    made = self._made[service] = routed(created)
        return made

    def cache_clear(self) -> None:
        with self._lock:
            self._made.clear()


client = _Clients()
