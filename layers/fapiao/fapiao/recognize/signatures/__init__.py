"""File signatures verified (issue 15): OFD (GB/T 38540 SES_Signature) and PDF (GM CMS
with SM2/SM3, RSA PKCS#7, adbe.x509.rsa_sha1), each ending in a ``SignatureCheck``.

``model``: what a check says. ``sm2``: SM2 verification (GB/T 32918, Za over the
signer's user id). ``certs``: certificates with the GM OIDs, and the issuers the project
pins. ``ofd`` and ``pdf``: the two file kinds.
"""
