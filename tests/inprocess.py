"""A local hub in the test's own process (``LocalHub``), for tests that look inside it;
``hubprocess`` starts one as a user does, as a process."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fapiao import aws
from fapiao.local.hub import HubConfig, LocalHub
from support import REGION, TEMPLATE


@contextmanager
def local_hub(
    folder: Path, env: Mapping[str, str | None] | None = None, **config: Any
) -> Iterator[LocalHub]:
    """A started ``LocalHub`` on free loopback ports with its data and inbox in
    ``folder``. ``env`` is set for its life (None unsets a name): handlers read their
    settings at import, so it is in place before the start. ``config``: more HubConfig."""
    saved = dict(os.environ)
    for name, value in (env or {}).items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    aws.client.cache_clear()  # botocore clients of an earlier hub point at its endpoint
    hub = LocalHub(
        HubConfig(
            host="127.0.0.1",
            port=0,
            aws_port=0,
            data_dir=folder / "data",
            inbox=folder / "inbox",
            template=TEMPLATE,
            region=REGION,
            **config,
        )
    )
    try:
        hub.start()
        yield hub
    finally:
        hub.stop()
        os.environ.clear()
        os.environ.update(saved)
        aws.client.cache_clear()
