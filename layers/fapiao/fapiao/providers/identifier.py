"""The identifier port: a remote recognition provider, asynchronous (submit, then poll).

The pipeline asks one when the embedded engine answers U (nothing machine-readable in
the file) and ``FAPIAO_IDENTIFIER`` names a provider. Recognition is asynchronous, as
spec 004 has it: a submission answers an identify id, and polling that id answers
pending until the provider is done. The pipeline's Wait states poll with growing waits
(``IdentifierSettings.poll_waits``) and bound the attempts; an adapter never sleeps
through a recognition in progress.

Neither call raises for the provider's failures; both answer a model that Step
Functions can carry as JSON:

- ``Submission``: an identify id, or why there is none. ``retryable`` says whether the
  same submission may succeed later (a timeout, a 5xx, a busy provider), as against a
  refusal (a file the provider does not take, a URL it cannot read).
- ``Poll``: ``pending`` (poll again later), ``done`` (with the canonical invoice) or
  ``failed`` (polling again will not help).

A poll that reached no answer (a timeout, a connection error, a 5xx, a body that is not
JSON, the provider busy) is ``pending`` with the failure as its ``reason``, not
``failed``: the identify id stays good at the provider and the recognition may well be
done by the next poll, while the caller's bounded attempts keep a provider that stays
down from being polled forever. Only answers that polling again cannot change are
``failed``: an id the provider does not know, a recognition it gave up on, a result the
hub cannot read.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Protocol

from pydantic import ConfigDict

from fapiao.basemodel import HubModel
from fapiao.catalogue.errors import Problem
from fapiao.model import Invoice

__all__ = ["Identifier", "Poll", "PollState", "Submission"]


class Submission(HubModel):
    """One file (or one page of a PDF) handed to the provider: its identify id, or why not."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    identify_id: str | None = None  # set when the provider accepted it
    page: int | None = None  # 1-based page of the PDF this submission carries; None: whole file
    reason: str | None = None  # why there is no identify id
    retryable: bool = False  # for a failure: may the same submission succeed later?
    problem: Problem | None = None  # the hub's word for the failure, when there is one

    @property
    def accepted(self) -> bool:
        return self.identify_id is not None


class PollState(StrEnum):
    PENDING = "pending"  # still recognizing, or no answer this time: poll again later
    DONE = "done"  # recognized: ``invoice`` holds it
    FAILED = "failed"  # polling again will not change the answer


class Poll(HubModel):
    """What one poll of an identify id answered."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    state: PollState
    invoice: Invoice | None = None  # for done
    reason: str | None = None  # for pending and failed: in words
    problem: Problem | None = None  # for failed (and a pending that failed to get an answer)

    @property
    def final(self) -> bool:
        return self.state is not PollState.PENDING


class Identifier(Protocol):
    """Port: asynchronous recognition by a remote provider. Never raises for its failures."""

    def submit_url(self, url: str) -> Submission:
        """Have the provider download and recognize the file at ``url``."""

    def submit_file(self, data: bytes, *, pages: Sequence[int] | None = None) -> list[Submission]:
        """Hand the provider the file: one submission per PDF page (``pages``: only these,
        1-based), one for an image. A file it cannot take is one failed submission."""

    def poll(self, identify_id: str) -> Poll:
        """Ask once how the recognition ``identify_id`` is going."""
