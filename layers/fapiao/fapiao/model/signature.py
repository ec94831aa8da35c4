"""What a file's signature check says: one ``SignatureCheck`` per file (issue 15), the
``signature`` object of ``fapiao recognize --json``, the detail query and the outcome
events. The verifier that makes it is ``fapiao.recognize.signatures``.

``valid`` proves that the file is unchanged since a holder of the signer's certificate
signed it; it does not prove that the certificate's issuer is genuine (the files carry
no CA certificate, and the tax CAs are in no public bundle): ``issuer_kind`` names the
issuer by the identifiers the project pins (``certs``), and a test CA is never the tax
bureau.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import ConfigDict

from fapiao.basemodel import HubModel

__all__ = ["CheckState", "IssuerKind", "SignatureCheck"]


class CheckState(StrEnum):
    VALID = "valid"  # every digest and signature verifies
    TAMPERED = "tampered"  # a digest or a signature does not match what was signed
    MODIFIED_AFTER_SIGNING = "modified_after_signing"  # bytes beyond what was signed
    ABSENT = "absent"  # the file carries no signature
    UNVERIFIABLE = "unverifiable"  # a signature that cannot be checked; ``reason`` says why


class IssuerKind(StrEnum):
    TAX_BUREAU = "tax_bureau"  # 税务电子证书管理中心 of 国家税务总局 (production)
    TAX_BUREAU_TEST = "tax_bureau_test"  # 税务测试CA: vendors' test files
    COMMERCIAL_CA = "commercial_ca"  # a commercial CA seen on e-invoices (NXCA, CWCA ...)
    UNKNOWN = "unknown"


class SignatureCheck(HubModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    state: CheckState
    algorithm: str | None = None  # e.g. "SM2-SM3", "RSA-SHA256", "RSA-SHA1"
    signer: str | None = None  # the signer certificate's subject, as text
    issuer: str | None = None  # its issuer, as text
    issuer_kind: IssuerKind | None = None
    signed_at: dt.datetime | None = None  # timezone-aware
    certificate_valid_at_signing: bool | None = None
    reason: str | None = None  # why, for tampered, modified_after_signing, unverifiable

    def to_json(self) -> dict[str, object]:
        """The ``signature`` object: every field, ``signed_at`` in ISO 8601 with its zone."""
        return self.model_dump(mode="json")
