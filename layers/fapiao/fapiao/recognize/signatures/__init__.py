"""File signatures verified (issue 15): OFD (GB/T 38540 SES_Signature) and PDF (GM CMS
with SM2/SM3, RSA PKCS#7, adbe.x509.rsa_sha1), each ending in a ``SignatureCheck``
(``fapiao.model.signature``).

``sm2``: SM2 verification (GB/T 32918, Za over the signer's user id). ``certs``:
certificates with the GM OIDs, and the issuers the project pins. ``ofd`` and ``pdf``:
the two file kinds. ``verify_file`` picks one by the file's kind.
"""

from __future__ import annotations

import logging

from fapiao.catalogue.errors import HubError
from fapiao.model.signature import CheckState, SignatureCheck
from fapiao.recognize.detect import FileKind

__all__ = ["verify_file"]

logger = logging.getLogger(__name__)

# A photo or a scan is pixels: nothing in it can carry a digital signature.
_PICTURE = SignatureCheck(state=CheckState.ABSENT, reason="a picture carries no digital signature")


def verify_file(data: bytes, kind: FileKind) -> SignatureCheck:
    """The check of every signature in the file ``data`` of ``kind``. Never raises: a
    file whose signatures cannot be read is ``unverifiable``, with the reason."""
    try:
        return _verify(data, kind)
    except HubError as error:  # a zip limit, a damaged entry, hostile XML
        return SignatureCheck(state=CheckState.UNVERIFIABLE, reason=str(error))
    except Exception:
        # A verifier bug must not cost the file its reading: the log keeps the trace.
        logger.exception("the signature check of a %s file failed", kind.value)
        return SignatureCheck(
            state=CheckState.UNVERIFIABLE, reason="the signature could not be checked"
        )


def _verify(data: bytes, kind: FileKind) -> SignatureCheck:
    if kind is FileKind.PDF:
        from fapiao.recognize.signatures.pdf import verify_pdf

        return verify_pdf(data)
    if kind is FileKind.OFD:
        from fapiao.recognize.safezip import SafeZip
        from fapiao.recognize.signatures.ofd import verify_ofd

        return verify_ofd(SafeZip(data))
    return _PICTURE
