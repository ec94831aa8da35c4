"""ExocrVerifier: the tax authority's answer through exocr (spec 003), paid per call.

The request is 003's form (``fapiao.mapping.exocr.to_verify_request``: request type
codes and the per-type meaning of ``total`` from the catalogue). Each answer's codes
are looked up in the error catalogue:

- error_code 0 + result_code 1: verified; Y, or F when the invoice is void, red-letter
  or reversed (``cancel_flag`` / ``inv_status``);
- result_code 2 (daily cap): C, ``retry_at`` the next Shanghai midnight, no retry now;
- a code whose row is ``retryable`` (3202, 3213, 4007; result 7, 8), a timeout, a
  connection error, HTTP 429 or 5xx, a body that is not JSON: retried with jittered
  exponential backoff within the attempt and time budget, then C with ``retry_at``;
- any other code (3204, 3207, 3210, 4001; result 6, 9, 105): F at once, with exocr's
  reason; result 6 carries the tax authority's data;
- 4002 (credentials refused) is the hub's misconfiguration, not the invoice's fault: C
  with ``retry_at``, problem ``internal``, and an error log to alarm on
  (``alarm: exocr_credentials``).

Parsing is tolerant: exocr may add fields that 003 does not name, and the wire models
are strict, so the answer is pruned to the declared fields of its schema before it is
validated (the names dropped are logged at debug level, their values never).

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
from pydantic import BaseModel, ValidationError

from fapiao.catalogue.errors import (
    SUCCESS,
    Family,
    Problem,
    UnknownErrorCode,
    by_code,
)
from fapiao.catalogue.types import TypeNotInVocabulary
from fapiao.dates import now_in_shanghai
from fapiao.mapping.exocr import IncompleteInvoiceError, check_from_exocr, to_verify_request
from fapiao.model import CheckResult, Invoice, InvoiceStatus
from fapiao.providers.settings import VerifierSettings
from fapiao.providers.verifier import (
    DAILY_CAP,
    Source,
    Verification,
    next_shanghai_day,
    status_of_check,
)
from fapiao.rules.offline_checks import INVALID_PARAMETER
from fapiao.wire.common import WireError, load_json
from fapiao.wire.exocr import (
    FlightDetail,
    FlightItineraryData,
    MotorVehicleData,
    RailTicketData,
    RollData,
    RollItem,
    TollData,
    TollItem,
    UsedCarData,
    VatData,
    VatItem,
    VerifyResponse,
    VerifyResult,
    verify_data_kind,
)

__all__ = [
    "CredentialSource",
    "Credentials",
    "CredentialsUnavailable",
    "ExocrVerifier",
    "credentials_from_settings",
    "parameter_credentials",
    "parse_verify_response",
    "secret_credentials",
    "static_credentials",
]

logger = logging.getLogger(__name__)

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


# --- tolerant parsing ----------------------------------------------------------------

_DATA_MODELS: dict[str, type[BaseModel]] = {
    model.kind: model
    for model in (
        VatData,
        RollData,
        MotorVehicleData,
        UsedCarData,
        TollData,
        RailTicketData,
        FlightItineraryData,
    )
}
_ITEM_MODELS: dict[type[BaseModel], type[BaseModel]] = {
    VatData: VatItem,
    RollData: RollItem,
    TollData: TollItem,
    FlightItineraryData: FlightDetail,
}


def _wire_names(model: type[BaseModel]) -> frozenset[str]:
    return frozenset(info.alias or name for name, info in model.model_fields.items())


def _prune(
    value: Mapping[str, Any], model: type[BaseModel], dropped: list[str], path: str
) -> dict[str, Any]:
    allowed = _wire_names(model)
    kept: dict[str, Any] = {}
    for name, item in value.items():
        if name in allowed:
            kept[name] = item
        else:
            dropped.append(f"{path}{name}")
    return kept


def parse_verify_response(payload: object) -> tuple[VerifyResponse, list[str]]:
    """exocr's answer as a ``VerifyResponse``, with fields 003 does not name dropped.

    Returns the model and the dotted names that were dropped. A ``result`` that is not
    an object (003 types it "string") is dropped too. Raises ``ValidationError`` when
    what remains is not 003 (no ``error_code``, a code that is not a number, ...).
    """
    if not isinstance(payload, Mapping):
        raise WireError(f"exocr answered a JSON {type(payload).__name__}, not an object")
    dropped: list[str] = []
    envelope = _prune(payload, VerifyResponse, dropped, "")
    result = envelope.get("result")
    if result is not None and not isinstance(result, Mapping):
        dropped.append("result")
        envelope["result"] = None
    elif isinstance(result, Mapping):
        result = _prune(result, VerifyResult, dropped, "result.")
        data = result.get("data")
        if isinstance(data, Mapping):
            model = _DATA_MODELS[verify_data_kind(data)]
            data = _prune(data, model, dropped, "result.data.")
            items = data.get("detail_list")
            item_model = _ITEM_MODELS.get(model)
            if isinstance(items, list) and item_model is not None:
                data["detail_list"] = [
                    _prune(item, item_model, dropped, f"result.data.detail_list[{index}].")
                    if isinstance(item, Mapping)
                    else item
                    for index, item in enumerate(items)
                ]
            result["data"] = data
        envelope["result"] = result
    return VerifyResponse.model_validate(envelope), dropped


# --- the verifier --------------------------------------------------------------------


@dataclass(frozen=True)
class _Attempt:
    """One request to exocr: its parsed answer, or why there is none."""

    http_status: int | None = None
    response: VerifyResponse | None = None
    failure: str | None = None  # no usable answer: timeout, 5xx, not JSON, ...
    retryable: bool = False  # for a failure: can the same request succeed later?


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
    ) -> None:
        self.url = url
        self._credentials = credentials
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._attempts = attempts
        self._budget = budget_seconds
        self._retry_after = retry_after
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._client = client or httpx.Client(
            follow_redirects=False, headers={"User-Agent": "fapiao-hub"}
        )
        self._clock = clock
        self._sleep = sleep
        self._monotonic = monotonic
        self._jitter = jitter

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
        self._client.close()

    # -- the use -------------------------------------------------------------------

    def verify(self, invoice: Invoice) -> Verification:
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
            form = to_verify_request(invoice, credentials.app_key, credentials.app_secret).to_form()
        except TypeNotInVocabulary:
            return Verification(
                invoice_key=key,
                status=InvoiceStatus.RECOGNISED,
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

        started = self._monotonic()
        calls = 0
        outcome = self._deferred(invoice, "exocr was not asked: no time left", None)
        for attempt in range(1, self._attempts + 1):
            remaining = self._budget - (self._monotonic() - started)
            if remaining <= 0:
                break
            answer = self._post(form, remaining, key, attempt)
            calls += 1
            outcome, retry = self._decide(invoice, answer)
            if not retry or attempt == self._attempts:
                break
            delay = self._jitter() * min(self._backoff_cap, self._backoff_base * 2 ** (attempt - 1))
            if self._monotonic() - started + delay >= self._budget:
                break
            self._sleep(delay)
        return outcome.model_copy(update={"provider_calls": calls})

    # -- one request ---------------------------------------------------------------

    def _post(
        self, form: dict[str, str], remaining: float, key: str | None, attempt: int
    ) -> _Attempt:
        timeout = httpx.Timeout(
            connect=min(self._connect_timeout, remaining),
            read=min(self._read_timeout, remaining),
            write=min(self._read_timeout, remaining),
            pool=min(self._connect_timeout, remaining),
        )
        log: dict[str, object] = {"invoice_key": key, "attempt": attempt}
        started = time.monotonic()
        try:
            reply = self._client.post(self.url, data=form, timeout=timeout)
        except httpx.TimeoutException as error:
            logger.warning("exocr timed out", extra={**log, "failure": type(error).__name__})
            return _Attempt(failure=f"exocr timed out ({type(error).__name__})", retryable=True)
        except httpx.HTTPError as error:
            logger.warning("exocr unreachable", extra={**log, "failure": type(error).__name__})
            return _Attempt(failure=f"exocr unreachable ({type(error).__name__})", retryable=True)
        except Exception as error:  # a malformed URL and such: the hub's configuration
            logger.error(
                "exocr cannot be called",
                extra={**log, "failure": type(error).__name__, "alarm": "exocr"},
            )
            return _Attempt(failure=f"exocr cannot be called ({type(error).__name__})")
        log.update(
            http_status=reply.status_code, elapsed_ms=int((time.monotonic() - started) * 1000)
        )
        busy = reply.status_code == 429 or reply.status_code >= 500
        try:
            response, dropped = parse_verify_response(load_json(reply.content))
        except (WireError, ValidationError):
            if busy or reply.is_success:  # a busy server, or a broken answer: try again
                logger.warning("exocr answered no 003 JSON", extra=log)
                return _Attempt(
                    reply.status_code,
                    failure=f"exocr answered HTTP {reply.status_code} without 003 JSON",
                    retryable=True,
                )
            # A 4xx without 003's envelope: a wrong URL or a proxy in the way.
            logger.error("exocr answered no 003 JSON", extra={**log, "alarm": "exocr"})
            return _Attempt(
                reply.status_code, failure=f"exocr's answer is not 003 (HTTP {reply.status_code})"
            )
        if dropped:
            logger.debug("exocr sent fields 003 does not name", extra={**log, "fields": dropped})
        code = response.result.result_code if response.result is not None else None
        logger.info(
            "exocr answered",
            extra={
                **log,
                "error_code": response.error_code,
                "result_code": code,
                "request_id": response.request_id,
                "available_count": response.available_count,
            },
        )
        return _Attempt(reply.status_code, response=response)

    # -- what the answer means -----------------------------------------------------

    def _decide(self, invoice: Invoice, answer: _Attempt) -> tuple[Verification, bool]:
        """The verification an answer gives, and whether another attempt may change it.

        Codes are looked up in the error catalogue: the call's ``error_code`` when it
        is not 0, else the check's ``result_code``.
        """
        response = answer.response
        if response is None:
            problem = Problem.UPSTREAM_UNAVAILABLE if answer.retryable else Problem.INTERNAL
            return self._deferred(invoice, answer.failure, problem), answer.retryable
        key = invoice.invoice_key
        result = response.result
        call_failed = response.error_code != 0
        family = Family.EXOCR if call_failed else Family.EXOCR_RESULT
        raw = response.error_code if call_failed else (result.result_code if result else None)
        code = "" if raw is None else str(raw)
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
        said = response.description if call_failed else (result.desc if result else None)
        reason = said or entry.message
        if (family, entry.code) in SUCCESS:
            status, why = status_of_check(check)
            return self._final(invoice, status, check, why, entry.code), False
        if entry.problem is Problem.UNAUTHORISED:
            # 4002: exocr refused the hub's own credentials; not the invoice's fault.
            logger.error(
                "exocr refused the hub's credentials (4002): check the configured secret",
                extra={"invoice_key": key, "alarm": "exocr_credentials"},
            )
            return self._deferred(invoice, reason, Problem.INTERNAL, code, check=check), False
        if family is Family.EXOCR_RESULT and entry.code == DAILY_CAP:
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
