"""Adapters that several handlers build the same way, once per container."""

from __future__ import annotations

from functools import cache

from fapiao.providers.fetch import SafeFetcher
from fapiao.settings import FetchSettings


@cache
def safe_fetcher() -> SafeFetcher:
    return SafeFetcher(FetchSettings.from_env())


def fetch_bytes(url: str, max_bytes: int) -> bytes:
    """A FileLoader over the safe fetcher."""
    return safe_fetcher().fetch(url, max_bytes=max_bytes).content
