"""ExocrVerifier: the tax authority's answer through exocr (spec 003), paid per call.

The request is 003's form (``fapiao.mapping.exocr.to_verify_request``: request type
codes and the per-type meaning of ``total`` from the catalogue). Each answer's codes
are looked up in the error catalogue:

- error_code 0 + result_code 1: verified; Y, or F when the invoice is void, red-letter
  or reversed (``cancel_flag`` / ``inv_status``);
- result_code 2 (daily cap): C, ``retry_at`` the next Shanghai midnight, no retry now;
- a code whose row is ``retryable`` (3202, 3213, 4007; result 7, 8), a timeout, a
  connection error, HTTP 429 or 5xx, a body that is not 003's JSON: retried with jittered
  exponential backoff within the attempt and time budget
  (``fapiao.providers.client.ProviderClient``), then C with ``retry_at``;
- any other code (3204, 3207, 3210, 4001; result 6, 9, 105): F at once, with exocr's
  reason; result 6 carries the tax authority's data;
- with a rate limit (``FAPIAO_EXOCR_MAX_RPS``, ``fapiao.providers.turns``) every
  attempt waits for its turn first; 4007 or HTTP 429 lowers the shared rate; no turn
  within the wait: C, problem ``busy``, nothing paid (the verify use case answers the
  synchronous APIs' busy answer, the pipeline's C);
- 4002 (credentials refused) is the hub's misconfiguration, not the invoice's fault: C
  with ``retry_at``, problem ``internal``, and an error log to alarm on
  (``alarm: exocr_credentials``).

Parsing is tolerant (``fapiao.mapping.exocr.parse_verify_response``): exocr may add
fields that 003 does not name, and the wire models are strict, so the answer is pruned
to the declared fields of its schema before it is validated (the names dropped are
logged at debug level, their values never).

Credentials are read when first needed (Secrets Manager or SSM through Powertools
Parameters, cached by it for five minutes) and never logged: logs carry the invoice
key, the attempt, the codes and exocr's request id, never the form; botocore's DEBUG dump
of the secret's response body is filtered out.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from fapiao.catalogue.errors import (
    SUCCESS,
    CatalogueEntry,
    Family,
    Problem,
    UnknownErrorCode,
    by_code,
)
from fapiao.catalogue.types import TypeNotInVocabulary
from fapiao.dates import now_in_shanghai
from fapiao.mapping.exocr import (
    IncompleteInvoiceError,
    check_from_exocr,
    parse_verify_response,
    to_verify_request,
)
from fapiao.model import CheckResult, Invoice, InvoiceStatus
from fapiao.providers.client import Body, ProviderClient, Reply
from fapiao.providers.turns import ProviderTurns
from fapiao.providers.verifier import DAILY_CAP, next_shanghai_day, status_of_check
from fapiao.results import Source, Verification
from fapiao.rules.offline_checks import INVALID_PARAMETER
from fapiao.settings import VerifierSettings
from fapiao.wire.common import load_json
from fapiao.wire.exocr import VerifyResponse

__all__ = [
    "CredentialSource",
    "Credentials",
    "CredentialsUnavailable",
    "ExocrVerifier",
    "credentials_from_settings",
    "parameter_credentials",
    "secret_credentials",
    "static_credentials",
]

logger = logging.getLogger(__name__)

BUSY = 4007  # 003's 服务器忙: the provider is overloaded

CREDENTIALS_MAX_AGE = 300  # seconds Powertools keeps a fetched secret


# --- credentials ---------------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    """exocr's app_key and app_secret; masked in repr so no log or traceback shows them."""

    app_key: str = field(repr=False)
    app_secret: str = field(repr=False)


CredentialSource = Callable[[], Credentials]


class CredentialsUnavailable(RuntimeError):
    """The credentials could not be read; the message never holds a secret."""


def _credentials_from(value: object, where: str) -> Credentials:
    if isinstance(value, Mapping):
        key, secret = value.get("app_key"), value.get("app_secret")
        if isinstance(key, str) and isinstance(secret, str) and key and secret:
            return Credentials(key, secret)
    raise CredentialsUnavailable(f"{where} does not hold a JSON object with app_key and app_secret")


class _SecretResponseFilter(logging.Filter):
    """Drops botocore's DEBUG dump of a response body that holds a secret.

    botocore logs every response body at DEBUG (``botocore.parsers``); with the root
    logger at DEBUG (Lambda's log-level control sets it) the body of GetSecretValue or
    of a SecureString GetParameter would carry exocr's credentials into the logs.
    """

    MARKERS = (b'"SecretString"', b'"SecretBinary"', b"SecureString")

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        for arg in args:
            text = arg if isinstance(arg, bytes) else str(arg).encode("utf-8", "replace")
            if any(marker in text for marker in self.MARKERS):
                return False
        return True


def _hide_secret_responses() -> None:
    logger = logging.getLogger("botocore.parsers")
    if not any(isinstance(f, _SecretResponseFilter) for f in logger.filters):
        logger.addFilter(_SecretResponseFilter())


def static_credentials(app_key: str, app_secret: str) -> CredentialSource:
    credentials = Credentials(app_key, app_secret)
    return lambda: credentials


def secret_credentials(name: str, *, max_age: int = CREDENTIALS_MAX_AGE) -> CredentialSource:
    """A Secrets Manager secret holding ``{"app_key": ..., "app_secret": ...}``."""
    _hide_secret_responses()

    def read() -> Credentials:
        from aws_lambda_powertools.utilities import parameters

        try:
            value = parameters.get_secret(name, transform="json", max_age=max_age)
        except Exception as error:  # the secret's value is never in Powertools' errors
            raise CredentialsUnavailable(
                f"secret {name} cannot be read: {type(error).__name__}"
            ) from None
        return _credentials_from(value, f"secret {name}")

    return read


def parameter_credentials(name: str, *, max_age: int = CREDENTIALS_MAX_AGE) -> CredentialSource:
    """An SSM SecureString parameter holding ``{"app_key": ..., "app_secret": ...}``."""
    _hide_secret_responses()

    def read() -> Credentials:
        from aws_lambda_powertools.utilities import parameters

        try:
            value = parameters.get_parameter(name, transform="json", decrypt=True, max_age=max_age)
        except Exception as error:
            raise CredentialsUnavailable(
                f"parameter {name} cannot be read: {type(error).__name__}"
            ) from None
        return _credentials_from(value, f"parameter {name}")

    return read


def credentials_from_settings(settings: VerifierSettings) -> CredentialSource:
    """Local variables win (a laptop); else the secret, else the SSM parameter."""
    if settings.exocr_app_key is not None and settings.exocr_app_secret is not None:
        return static_credentials(
            settings.exocr_app_key.get_secret_value(), settings.exocr_app_secret.get_secret_value()
        )
    if settings.exocr_secret_name:
        return secret_credentials(settings.exocr_secret_name)
    if settings.exocr_parameter_name:
        return parameter_credentials(settings.exocr_parameter_name)
    raise CredentialsUnavailable("no exocr credentials are configured")


# --- the wire ------------------------------------------------------------------------


def _read_answer(content: bytes) -> tuple[VerifyResponse, list[str]]:
    return parse_verify_response(load_json(content))


def _logged_codes(answer: tuple[VerifyResponse, list[str]]) -> dict[str, object]:
    response = answer[0]
    return {
        "error_code": response.error_code,
        "result_code": response.result.result_code if response.result is not None else None,
        "request_id": response.request_id,
        "available_count": response.available_count,
    }


# An answer is 003's envelope, read tolerantly; its log line carries its codes.
ANSWER: Body[tuple[VerifyResponse, list[str]]] = Body("003 JSON", _read_answer, _logged_codes)


# --- the verifier --------------------------------------------------------------------


class ExocrVerifier:
    """Verifier over exocr's ``POST {url}/data/v1/verify_invoice`` (spec 003)."""

    remote = True

    def __init__(
        self,
        url: str,
        credentials: CredentialSource,
        *,
        connect_timeout: float = 3.0,
        read_timeout: float = 10.0,
        attempts: int = 3,
        budget_seconds: float = 20.0,
        retry_after: dt.timedelta = dt.timedelta(minutes=5),
        backoff_base: float = 0.5,
        backoff_cap: float = 4.0,
        client: httpx.Client | None = None,
        clock: Callable[[], dt.datetime] = now_in_shanghai,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
        turns: ProviderTurns | None = None,
        turn_wait: float = 10.0,
    ) -> None:
        self.url = url
        self._credentials = credentials
        self._retry_after = retry_after
        self._clock = clock
        self._http = ProviderClient(
            "exocr",
            spec="003",
            logger=logger,
            client=client,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            attempts=attempts,
            budget_seconds=budget_seconds,
            backoff_base=backoff_base,
            backoff_cap=backoff_cap,
            sleep=sleep,
            monotonic=monotonic,
            jitter=jitter,
            turns=turns,
            turn_wait=turn_wait,
        )

    @classmethod
    def from_settings(cls, settings: VerifierSettings, **options: Any) -> ExocrVerifier:
        return cls(
            settings.verify_url,
            credentials_from_settings(settings),
            connect_timeout=settings.exocr_connect_timeout,
            read_timeout=settings.exocr_read_timeout,
            attempts=settings.exocr_attempts,
            budget_seconds=settings.exocr_budget_seconds,
            retry_after=dt.timedelta(seconds=settings.verify_retry_after_seconds),
            **options,
        )

    def __repr__(self) -> str:
        return f"ExocrVerifier(url={self.url!r})"

    def close(self) -> None:
        self._http.close()

    @property
    def turn_wait(self) -> float:
        """Seconds an attempt waits for its turn (the rate limit); the factory sets the
        pipeline's shorter wait."""
        return self._http.turn_wait

    @turn_wait.setter
    def turn_wait(self, seconds: float) -> None:
        self._http.turn_wait = seconds

    # -- the use -------------------------------------------------------------------

    def verify(self, invoice: Invoice) -> Verification:
        form = self._form(invoice)
        if isinstance(form, Verification):
            return form
        outcome, calls = self._http.call(
            self.url,
            ANSWER,
            lambda reply: self._decide(invoice, reply),
            no_time=self._deferred(invoice, "exocr was not asked: no time left", None),
            no_turn=self._no_turn(invoice),
            throttled=_throttled,
            log={"invoice_key": invoice.invoice_key},
            data=form,
        )
        return outcome.model_copy(update={"provider_calls": calls})

    def _form(self, invoice: Invoice) -> dict[str, str] | Verification:
        """003's form for ``invoice``, or the verification that says why none is sent."""
        key = invoice.invoice_key
        try:
            credentials = self._credentials()
        except Exception as error:  # CredentialsUnavailable, or a source's own failure
            logger.error(
                "exocr credentials unavailable: %s",
                error if isinstance(error, CredentialsUnavailable) else type(error).__name__,
                extra={"alarm": "exocr_credentials", "invoice_key": key},
            )
            return self._deferred(invoice, "exocr credentials unavailable", Problem.INTERNAL)
        try:
            return to_verify_request(invoice, credentials.app_key, credentials.app_secret).to_form()
        except TypeNotInVocabulary:
            return Verification(
                invoice_key=key,
                status=InvoiceStatus.RECOGNIZED,
                source=Source.PROVIDER,
                reason=f"exocr does not verify {invoice.invoice_type.name}",
            )
        except IncompleteInvoiceError as error:
            return Verification(
                invoice_key=key,
                status=InvoiceStatus.CHECK_FAILED,
                source=Source.PROVIDER,
                reason=str(error),
                code=INVALID_PARAMETER,
            )

    # -- what the answer means -----------------------------------------------------

    def _decide(
        self, invoice: Invoice, reply: Reply[tuple[VerifyResponse, list[str]]]
    ) -> tuple[Verification, bool]:
        """The verification an answer gives, and whether another attempt may change it.

        Codes are looked up in the error catalogue: the call's ``error_code`` when it
        is not 0, else the check's ``result_code``.
        """
        if reply.body is None:
            return self._deferred(invoice, reply.failure, reply.problem), reply.retryable
        response, dropped = reply.body
        if dropped:
            logger.debug(
                "exocr sent fields 003 does not name", extra={**reply.log, "fields": dropped}
            )
        key = invoice.invoice_key
        family, code = _deciding_code(response)
        try:
            entry = by_code(family, code)
        except UnknownErrorCode:
            logger.warning(
                "exocr answered a code 003 does not name",
                extra={"invoice_key": key, "family": family.value, "code": code},
            )
            reason = f"exocr answered an unknown {family.value} code {code!r}"
            return self._deferred(invoice, reason, None, code or None), True
        try:
            check = check_from_exocr(response, invoice)
        except ValueError as error:  # paid for, and unreadable: say so loudly
            logger.error(
                "exocr's answer cannot be read",
                extra={
                    "invoice_key": key,
                    "request_id": response.request_id,
                    "failure": type(error).__name__,
                    "alarm": "exocr",
                },
            )
            reason = f"exocr's answer cannot be read: {type(error).__name__}"
            return self._deferred(invoice, reason, Problem.INTERNAL, code), False
        return self._by_entry(invoice, response, entry, check)

    def _by_entry(
        self, invoice: Invoice, response: VerifyResponse, entry: CatalogueEntry, check: CheckResult
    ) -> tuple[Verification, bool]:
        """What the catalogue's row of the deciding code makes of the invoice."""
        code = entry.code
        result = response.result
        said = (
            response.description
            if entry.family is Family.EXOCR
            else (result.desc if result else None)
        )
        reason = said or entry.message
        if (entry.family, code) in SUCCESS:
            status, why = status_of_check(check)
            return self._final(invoice, status, check, why, code), False
        if entry.problem is Problem.UNAUTHORISED:
            # 4002: exocr refused the hub's own credentials; not the invoice's fault.
            logger.error(
                "exocr refused the hub's credentials (4002): check the configured secret",
                extra={"invoice_key": invoice.invoice_key, "alarm": "exocr_credentials"},
            )
            return self._deferred(invoice, reason, Problem.INTERNAL, code, check=check), False
        if entry.family is Family.EXOCR_RESULT and code == DAILY_CAP:
            retry_at = next_shanghai_day(self._clock())
            return self._deferred(
                invoice, reason, None, code, check=check, retry_at=retry_at
            ), False
        if entry.retryable:
            return self._deferred(invoice, reason, None, code, check=check), True
        return self._final(invoice, InvoiceStatus.CHECK_FAILED, check, reason, code), False

    def _final(
        self,
        invoice: Invoice,
        status: InvoiceStatus,
        check: CheckResult,
        reason: str | None,
        code: str,
    ) -> Verification:
        return Verification(
            invoice_key=invoice.invoice_key,
            status=status,
            source=Source.PROVIDER,
            check=check,
            reason=reason,
            code=code,
        )

    def _no_turn(self, invoice: Invoice) -> Verification:
        """No turn to call exocr within the wait (its rate limit): nothing was asked,
        nothing is remembered (the source is the hub, not exocr)."""
        return Verification(
            invoice_key=invoice.invoice_key,
            status=InvoiceStatus.AWAITING_CHECK,
            source=Source.HUB,
            reason=f"exocr was not asked: no turn within {self._http.turn_wait:g} s "
            "(its rate limit)",
            problem=Problem.BUSY,
            retry_at=self._clock() + self._retry_after,
        )

    def _deferred(
        self,
        invoice: Invoice,
        reason: str | None,
        problem: Problem | None,
        code: str | None = None,
        *,
        check: CheckResult | None = None,
        retry_at: dt.datetime | None = None,
    ) -> Verification:
        return Verification(
            invoice_key=invoice.invoice_key,
            status=InvoiceStatus.AWAITING_CHECK,
            source=Source.PROVIDER,
            check=check,
            reason=reason,
            code=code,
            problem=problem,
            retry_at=retry_at or self._clock() + self._retry_after,
        )


def _throttled(reply: Reply[tuple[VerifyResponse, list[str]]]) -> bool:
    """exocr's "busy" (4007, 服务器忙) or HTTP 429: the hub calls it too often."""
    return reply.http_status == 429 or (reply.body is not None and reply.body[0].error_code == BUSY)


def _deciding_code(response: VerifyResponse) -> tuple[Family, str]:
    """The code that decides, and its family: the call's ``error_code`` when it is not 0,
    else the check's ``result_code`` ("" when there is none)."""
    if response.error_code != 0:
        return Family.EXOCR, str(response.error_code)
    raw = response.result.result_code if response.result is not None else None
    return Family.EXOCR_RESULT, "" if raw is None else str(raw)
