"""Use case: who is calling? An API key in ``x-api-key`` names one enabled client."""

from __future__ import annotations

import time

from fapiao.catalogue.errors import HubError, Problem
from fapiao.clients import ApiClient
from fapiao.ports import ApiKeyStore
from fapiao.store.api_keys import hash_key

API_KEY_HEADER = "x-api-key"
_CACHE_SECONDS = 60.0  # a revoked key stops working within a minute on a warm container
_cache: dict[str, tuple[float, ApiClient | None]] = {}


def authenticate(key: str | None, store: ApiKeyStore) -> ApiClient:
    """The client the key belongs to; ``HubError(UNAUTHORISED)`` otherwise."""
    if not key or len(key) > 200:
        raise HubError(Problem.UNAUTHORISED, f"send your API key in the {API_KEY_HEADER} header")
    key_hash = hash_key(key.strip())
    now = time.monotonic()
    cached = _cache.get(key_hash)
    if cached is not None and now - cached[0] < _CACHE_SECONDS:
        client = cached[1]
    else:
        client = store.find(key_hash)
        _cache[key_hash] = (now, client)
    if client is None or client.disabled:
        raise HubError(Problem.UNAUTHORISED, "unknown or disabled API key")
    return client


def forget_cached_keys() -> None:
    _cache.clear()
