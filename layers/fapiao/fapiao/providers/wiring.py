"""Adapters that several handlers build the same way, once per container."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from fapiao.settings import FetchSettings

if TYPE_CHECKING:
    from fapiao.providers.fetch import SafeFetcher


@cache
def safe_fetcher() -> SafeFetcher:
    """Built (and httpx imported) at the first file fetched by URL, not at a cold start."""
    from fapiao.providers.fetch import SafeFetcher

    return SafeFetcher(FetchSettings.from_env())


def fetch_bytes(url: str, max_bytes: int) -> bytes:
    """A FileLoader over the safe fetcher."""
    return safe_fetcher().fetch(url, max_bytes=max_bytes).content
