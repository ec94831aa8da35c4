"""Powertools' event handler made safe for the local hub's containers, which are threads.

A Lambda container resolves one event at a time, so Powertools keeps the event being
resolved in class attributes: ``BaseRouter.current_event`` and
``BaseRouter.lambda_context`` (``ApiGatewayResolver.resolve`` sets them; every route,
the validation middleware and ``app.current_event`` read them). They are one per process.

The local hub runs each container as a copy of the handler module on a thread of one
process (``FunctionPool``). So two containers resolving at once would read each
other's event. Under 32 concurrent creates, a request was answered with another
request's body, and its bizId found "in progress" (409001).

``isolate_router_state`` keeps both attributes per thread, for class and instance
access alike. The local hub calls it before it loads a handler; Lambda never needs it.

``discard_unpublished_metrics``: the local hub publishes no metrics
(``POWERTOOLS_METRICS_DISABLED``). Then ``log_metrics`` neither prints nor clears what a
handler added, and Powertools prints the whole set to stdout by itself once a metric
has 100 values (after 100 refused requests, a line of EMF in the middle of a command's
output). The local hub drops them after each handler call instead.
"""

from __future__ import annotations

import threading
from abc import ABCMeta
from functools import partial
from typing import Any

__all__ = ["discard_unpublished_metrics", "isolate_router_state"]

_NAMES = ("current_event", "lambda_context")
_state = threading.local()
_done = threading.Lock()


def _get(name: str) -> Any:
    return getattr(_state, name, None)


def _instance_get(name: str, _instance: object) -> Any:
    return _get(name)


def _per_thread(name: str) -> property:
    """For ``BaseRouter.<name>`` read and written on the class (the metaclass's)."""
    return property(lambda _cls: _get(name), lambda _cls, value: setattr(_state, name, value))


class _PerThreadRouterMeta(ABCMeta):
    """BaseRouter's metaclass here: its class attributes ``current_event`` and
    ``lambda_context`` are the calling thread's."""

    current_event = _per_thread("current_event")
    lambda_context = _per_thread("lambda_context")


def isolate_router_state() -> None:
    """Make Powertools' ``BaseRouter.current_event`` and ``lambda_context`` per thread
    (idempotent). Class access goes through the metaclass's data descriptors; access on
    an instance (``app.current_event``) through a read-only property on the class."""
    from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

    with _done:
        if type(BaseRouter) is _PerThreadRouterMeta:
            return
        if type(BaseRouter) is not ABCMeta:
            raise RuntimeError(f"unexpected metaclass of BaseRouter: {type(BaseRouter)!r}")
        for name in _NAMES:
            # Set before the metaclass changes: afterwards this would be its setter's.
            type.__setattr__(BaseRouter, name, property(partial(_instance_get, name)))
        # A class's metaclass can be swapped for a subclass of the same layout.
        setattr(BaseRouter, "__class__", _PerThreadRouterMeta)  # noqa: B010 - not a method


def discard_unpublished_metrics() -> None:
    """Forget the metrics handlers added, when metrics are not published (one metric
    set per process, shared by every ``Metrics`` instance)."""
    from aws_lambda_powertools.metrics import Metrics
    from aws_lambda_powertools.metrics.functions import is_metrics_disabled

    if is_metrics_disabled():
        Metrics().clear_metrics()
