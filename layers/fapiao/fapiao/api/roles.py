"""Which role may call which route: the one table of it, read by every API handler (in
AWS and in the local hub alike), by the README and by the test that keeps it whole.

A row grants a route prefix to roles: a prefix ending in ``/`` covers every route below
it; any other covers its own route and the routes below it (``/common/review`` covers
``/common/review/{review_id}/fix``, not ``/common/reviewers``). The longest prefix that
covers a route decides. Admin may call everything; any other role only what a row
grants it, so a route no row covers is admin's alone (a test keeps every route of
template.yaml in the table, so a new one cannot be forgotten).

Plain Python (no pydantic, no boto3): every API handler imports it at its cold start.
"""

from __future__ import annotations

from dataclasses import dataclass

from fapiao.clients import Role

__all__ = ["GRANTS", "Grant", "allows", "grant_for"]


@dataclass(frozen=True)
class Grant:
    prefix: str  # a route path as template.yaml writes it, or a prefix of several
    roles: frozenset[Role]  # who may call it besides admin
    what: str  # in words, for the README


def _grant(prefix: str, what: str, *roles: Role) -> Grant:
    return Grant(prefix, frozenset(roles), what)


GRANTS: tuple[Grant, ...] = (
    # the five wire APIs: what an expense platform or a scanner sends invoices through
    _grant("/common/InvoiceOCR/ocrSync", "000 ocrSync", Role.SUBMIT),
    _grant("/common/invoice/create", "001 invoice/create", Role.SUBMIT),
    _grant("/api/openapi/invoice/import-invoice-pic", "002 Maycur import", Role.SUBMIT),
    _grant("/data/v1/verify_invoice", "003 verify_invoice", Role.SUBMIT),
    _grant("/openapi/identify/", "004 identify: submit, then poll the result", Role.SUBMIT),
    # reading what is stored
    _grant("/common/invoice/detail", "发票明细查询 (the detail query)", Role.SUBMIT, Role.REVIEW),
    # finance staff: the review queue, and the console's data (to come, issue 18)
    _grant("/common/review", "the review API: list, detail, fix, re-check", Role.REVIEW),
    _grant("/console/api/", "the review console's data", Role.REVIEW),
    # the ERP: its event feed and the events' schema; webhooks are admin's alone
    _grant("/erp/", "the ERP's event feed and the events' JSON Schema", Role.ERP),
    _grant("/erp/webhooks", "webhook subscriptions (admin only)"),
    _grant("/erp/deliveries", "the webhook delivery log (admin only)"),
    _grant("/erp/redeliveries", "webhook redelivery (admin only)"),
)


def _covers(prefix: str, path: str) -> bool:
    if prefix.endswith("/"):
        return path.startswith(prefix)
    return path == prefix or path.startswith(prefix + "/")


def grant_for(path: str) -> Grant | None:
    """The row that decides ``path`` (the longest prefix covering it), or None."""
    covering = [grant for grant in GRANTS if _covers(grant.prefix, path)]
    return max(covering, key=lambda grant: len(grant.prefix), default=None)


def allows(role: Role, path: str) -> bool:
    """May a key of ``role`` call the route ``path`` (template.yaml's path, e.g.
    ``/common/review/{review_id}/fix``)?"""
    if role is Role.ADMIN:
        return True
    grant = grant_for(path)
    return grant is not None and role in grant.roles
