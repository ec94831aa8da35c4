"""XML from untrusted files: defusedxml (no DTDs, no entities), namespaces ignored, and
the malformed roots that OFD writers are known to produce repaired.

Known breakage: CustomTag files rooted ``<:eInvoice xmlns:="">`` (an empty prefix) that
use ``ofd:`` without declaring it; files starting with a byte-order mark.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from fapiao.catalogue.errors import HubError, Problem

_NAMESPACES = {
    b"ofd": b"http://www.ofdspec.org/2016",
    b"fp": b"http://www.edrm.org.cn/schema/e-invoice/2019",
}
_ROOT_TAG = re.compile(rb"<(?![?!])[^>]*>")


def parse(data: bytes, name: str) -> Element:
    """The root element; ``HubError(UNRECOGNISABLE)`` for hostile or broken XML."""
    try:
        return _parse(data)
    except ParseError:
        pass
    try:
        return _parse(repair(data))
    except ParseError as error:
        raise HubError(Problem.UNRECOGNISABLE, f"{name} is not well-formed XML ({error})") from None


def _parse(data: bytes) -> Element:
    try:
        return fromstring(data, forbid_dtd=True)
    except DefusedXmlException as error:
        raise HubError(
            Problem.UNRECOGNISABLE, f"XML with a DTD or entities is refused ({error!r})"
        ) from None


def repair(data: bytes) -> bytes:
    """The known malformed roots made well-formed (see the module's docstring)."""
    fixed = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    fixed = fixed.replace(b' xmlns:=""', b"").replace(b"</:", b"</").replace(b"<:", b"<")
    root = _ROOT_TAG.search(fixed)
    if root is None:
        return fixed
    start_tag = root.group(0)
    declarations = b"".join(
        b" xmlns:" + prefix + b'="' + uri + b'"'
        for prefix, uri in _NAMESPACES.items()
        if prefix + b":" in fixed and b"xmlns:" + prefix not in fixed
    )
    if not declarations:
        return fixed
    end = -2 if start_tag.endswith(b"/>") else -1
    return (
        fixed[: root.start()]
        + start_tag[:end]
        + declarations
        + start_tag[end:]
        + fixed[root.end() :]
    )


def local(element: Element) -> str:
    """The tag without its namespace: '{http://...}InvoiceNo' -> 'InvoiceNo'."""
    return element.tag.rsplit("}", 1)[-1]


def children(element: Element, name: str) -> Iterator[Element]:
    return (child for child in element if local(child) == name)


def child(element: Element, name: str) -> Element | None:
    return next(children(element, name), None)


def descendants(element: Element, name: str) -> Iterator[Element]:
    return (node for node in element.iter() if local(node) == name)


def text(element: Element | None) -> str | None:
    """The element's text, stripped; None for a missing or empty element."""
    if element is None or element.text is None:
        return None
    stripped = element.text.strip()
    return stripped or None
