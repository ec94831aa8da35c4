"""The base of the hub's pydantic models.

Each model builds its validator and serializer at its first use, not when its module is
imported (pydantic's ``defer_build``): a function imports many models (every wire
shape of its family, the canonical invoice, the records of the stores) and a request
uses a few. That is a cold start's time (issue 13). pydantic >= 2.14 rebuilds a
deferred model under a lock, so the threads of the local hub may meet it first at once.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["HubModel"]


class HubModel(BaseModel):
    model_config = ConfigDict(defer_build=True)
