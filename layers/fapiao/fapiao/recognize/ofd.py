"""OFD e-invoices: a zip of XML (GB/T 33190), read as hostile input.

Per document (``DocBody``) one invoice, from up to three sources:
- ``ofd_xml``: the invoice XML attached to the document: ``original_invoice.xml``
  (``fp:`` names) of older e-invoices, or an XBRL attachment;
- ``ofd_text``: the CustomTags, which name fields and point at the text objects on the
  page that print them (数电 OFD files carry no invoice XML, only these);
- ``qr``: the QR payload (``fp:GraphCode``, as text or as a base64 PNG) or the QR image
  among the document's resources.
The invoice type comes from the QR code or the title printed on the page template.

A document with neither invoice XML nor CustomTags is read from its pages: their text
objects laid out in lines and read like a PDF's text layer (``ofd_text`` too; a list of
goods, 销货清单, on later pages adds its line items), or, where the page has no text to
read (drawn as outlines), the page rendered to pixels (``ofd_render``) and read like a
photo: QR code and OCR (``image.read_picture``).
"""

from __future__ import annotations

import base64
import binascii
import io
import logging
import posixpath
import re
from xml.etree.ElementTree import Element

from PIL import Image, UnidentifiedImageError

from fapiao.catalogue.errors import HubError, Problem
from fapiao.catalogue.types import InvoiceType
from fapiao.recognize import limits, ofd_fields, ofd_render, printed, xml
from fapiao.recognize.detect import FileKind
from fapiao.recognize.qr import QrPayload, invoice_payloads
from fapiao.recognize.result import Reading, RecognizedInvoice, Source, merge
from fapiao.recognize.safezip import SafeZip, resolve

logger = logging.getLogger(__name__)

_ROOT = "OFD.xml"
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff")
_MAX_IMAGES_TRIED = 10
_OLD_CODE = re.compile(r"0\d{9}(11|12)")  # 增值税电子普通发票 codes: 11 ordinary, 12 toll


def open_ofd(data: bytes) -> tuple[SafeZip, list[str]]:
    """The OFD file as an archive, and the path of each document it names (``DocRoot`` of
    each ``DocBody``, in order); UNSUPPORTED_FILE_TYPE for a zip without OFD.xml."""
    archive = SafeZip(data)
    if not archive.exists(_ROOT):
        raise HubError(Problem.UNSUPPORTED_FILE_TYPE, "a zip without OFD.xml is not an OFD file")
    root = xml.parse(archive.read(_ROOT), _ROOT)
    locations = (xml.text(xml.child(body, "DocRoot")) for body in xml.children(root, "DocBody"))
    return archive, [resolve(_ROOT, location) for location in locations if location is not None]


def recognize_ofd(data: bytes) -> list[RecognizedInvoice]:
    archive, documents = open_ofd(data)
    results = [_document(archive, path) for path in documents]
    if not results:
        raise HubError(Problem.UNRECOGNISABLE, "the OFD file names no document (DocRoot)")
    return results


def _document(archive: SafeZip, path: str) -> RecognizedInvoice:
    warnings: list[str] = []
    document = _xml(archive, path)
    if document is None:
        return RecognizedInvoice.unrecognisable(
            FileKind.OFD, f"the document {path} is missing", warnings=warnings
        )
    texts, printed_text = _page_texts(archive, path, document, warnings)
    title_type = printed.type_in_text(printed_text)
    readings, graph_codes = _attachment_readings(archive, path, document)
    tagged = _custom_tags(archive, path, document, texts)
    if tagged:
        readings.append((Source.OFD_TEXT, tagged))
    payloads, notes = invoice_payloads(graph_codes or _resource_qr_texts(archive, path))
    warnings.extend(notes)
    if not readings:  # no invoice XML, no CustomTags: what the pages print
        printed_reading = _printed_pages(archive, path, document, title_type, payloads)
        if printed_reading:
            readings.append((Source.OFD_TEXT, printed_reading))
    payload = _payload_of_invoice(payloads, readings)
    if payload is not None:
        readings.append((Source.QR, payload.reading()))
    _settle_type(readings, title_type)
    if not any(r.get("invoice_number") for s, r in readings if s is not Source.QR):
        rendered = _rendered(archive, path, document, payload, warnings)
        if rendered is not None:
            return rendered
    return merge(readings, kind=FileKind.OFD, page=1, warnings=warnings)


def _printed_pages(
    archive: SafeZip,
    path: str,
    document: Element,
    title_type: InvoiceType | None,
    payloads: list[QrPayload],
) -> Reading:
    """The fields printed on the first page (its text objects laid out), and the line
    items of the lists of goods on the pages after it; {} when nothing is read."""
    layout = ofd_render.page_layout(archive, path, document, 1)
    invoice_type = title_type or (payloads[0].invoice_type if payloads else None)
    if layout is None or invoice_type is None or printed.is_list_page(layout):
        return {}
    reading = printed.read(layout, invoice_type)
    if not reading.get("invoice_number"):
        return {}
    pages = min(ofd_render.page_count(document), limits.MAX_OFD_PAGES)
    for number in range(2, pages + 1):
        more = ofd_render.page_layout(archive, path, document, number)
        if more is not None and printed.is_list_page(more):
            printed.add_listed_items(reading, printed.list_reading(more))
    return reading


def _rendered(
    archive: SafeZip,
    path: str,
    document: Element,
    payload: QrPayload | None,
    warnings: list[str],
) -> RecognizedInvoice | None:
    """The first page drawn and read like a photo (QR code, then OCR), for a page with no
    text to read; None when it cannot be drawn or the picture gives no invoice (the QR
    code of the resources, if any, then stands alone)."""
    from fapiao.recognize.image import read_picture

    rendered = ofd_render.render_page(archive, path, document, 1)
    if rendered is None:
        return None
    with rendered.image:
        found = read_picture(rendered.image, FileKind.OFD, page=1)
    recognized = [r for r in found if r.invoice is not None]
    number = payload.invoice_number if payload is not None else None
    chosen = next((r for r in recognized if r.invoice and r.invoice.invoice_number == number), None)
    if chosen is None and payload is None:
        chosen = recognized[0] if recognized else (found[0] if found else None)
    if chosen is None:
        return None
    chosen.warnings = [*warnings, *rendered.notes, *chosen.warnings]
    chosen.page = 1
    return chosen


def _attachment_readings(
    archive: SafeZip, path: str, document: Element
) -> tuple[list[tuple[Source, Reading]], list[str]]:
    """A reading of each invoice XML attachment, and the QR texts an eInvoice carries
    (its GraphCode)."""
    readings: list[tuple[Source, Reading]] = []
    graph_codes: list[str] = []
    for attachment in _attachments(archive, path, document):
        if xml.local(attachment) == "xbrl":
            readings.append(
                (Source.OFD_XML, ofd_fields.read_xbrl(attachment, printed.type_in_text))
            )
        else:
            readings.append((Source.OFD_XML, ofd_fields.read_einvoice(attachment)))
            graph_codes.extend(_graph_codes(attachment))
    return readings, graph_codes


def _payload_of_invoice(
    payloads: list[QrPayload], readings: list[tuple[Source, Reading]]
) -> QrPayload | None:
    """The QR payload with the invoice number the other sources read; the first one
    when they read no number."""
    number = next((r["invoice_number"] for _, r in readings if "invoice_number" in r), None)
    payload = next((p for p in payloads if p.invoice_number == number), None)
    if payload is None and payloads and number is None:
        payload = payloads[0]
    return payload


def _settle_type(readings: list[tuple[Source, Reading]], title_type: InvoiceType | None) -> None:
    """Give the XML and tag readings the type printed in the title, or, failing that, the
    one an old e-invoice's code implies (11 ordinary, 12 toll)."""
    for _, reading in readings:
        if reading.get("invoice_type") is not None:
            continue
        if title_type is not None:
            reading["invoice_type"] = title_type
            continue
        code = reading.get("invoice_code")
        if isinstance(code, str) and (match := _OLD_CODE.fullmatch(code)):
            reading["invoice_type"] = (
                InvoiceType.VAT_ELECTRONIC_TOLL
                if match.group(1) == "12"
                else InvoiceType.VAT_ELECTRONIC_NORMAL
            )
    for _, reading in readings:
        if reading.get("invoice_type") is InvoiceType.VAT_ELECTRONIC_NORMAL and str(
            reading.get("invoice_code", "")
        ).endswith("12"):
            reading["invoice_type"] = InvoiceType.VAT_ELECTRONIC_TOLL


def _xml(archive: SafeZip, path: str) -> Element | None:
    try:
        data = archive.read(path)
    except KeyError:
        return None
    return xml.parse(data, path)


def _page_texts(
    archive: SafeZip, path: str, document: Element, warnings: list[str]
) -> tuple[dict[tuple[str, str], str], str]:
    """The text of every text object on the pages, by (page ID, object ID), and all the
    text printed on the pages and their templates (for the title)."""
    texts: dict[tuple[str, str], str] = {}
    printed_parts: list[str] = []
    pages = list(xml.descendants(document, "Page"))
    if len(pages) > limits.MAX_OFD_PAGES:
        raise HubError(
            Problem.FILE_TOO_LARGE,
            f"the OFD document has {len(pages)} pages; at most {limits.MAX_OFD_PAGES} are read",
        )
    templates = [t.get("BaseLoc") for t in xml.descendants(document, "TemplatePage")]
    for page in pages:
        location = page.get("BaseLoc")
        content = _xml(archive, resolve(path, location)) if location else None
        if content is None:
            warnings.append(f"page {location} is missing")
            continue
        page_id = page.get("ID", "")
        for obj in xml.descendants(content, "TextObject"):
            text = _object_text(obj)
            texts[(page_id, obj.get("ID", ""))] = text
            printed_parts.append(text)
    printed_parts.extend(_template_texts(archive, path, templates[: limits.MAX_OFD_PAGES]))
    return texts, "\n".join(printed_parts)


def _template_texts(archive: SafeZip, path: str, templates: list[str | None]) -> list[str]:
    """The text printed on the page templates (a missing template has none)."""
    parts: list[str] = []
    for location in templates:
        content = _xml(archive, resolve(path, location)) if location else None
        if content is not None:
            parts.extend(_object_text(obj) for obj in xml.descendants(content, "TextObject"))
    return parts


def _object_text(obj: Element) -> str:
    """The text of one TextObject: its TextCodes joined."""
    return "".join(code.text or "" for code in xml.descendants(obj, "TextCode"))


def _attachments(archive: SafeZip, path: str, document: Element) -> list[Element]:
    """The invoice XML attachments: original_invoice.xml or an XBRL instance."""
    location = xml.text(xml.child(document, "Attachments"))
    if location is None:
        return []
    listing_path = resolve(path, location)
    listing = _xml(archive, listing_path)
    if listing is None:
        return []
    found: list[Element] = []
    for attachment in xml.descendants(listing, "Attachment"):
        file_location = xml.text(xml.child(attachment, "FileLoc"))
        if file_location is None or not file_location.lower().endswith(".xml"):
            continue
        root = _xml(archive, resolve(listing_path, file_location))
        if root is not None and xml.local(root) in ("eInvoice", "xbrl"):
            found.append(root)
    return found


def _graph_codes(invoice: Element) -> list[str]:
    """fp:GraphCode: the QR payload as text, or a base64 image of the QR code."""
    value = xml.text(next(xml.descendants(invoice, "GraphCode"), None))
    if value is None:
        return []
    if value.startswith("01,"):
        return [value]
    try:
        raw = base64.b64decode(value, validate=False)
    except (binascii.Error, ValueError):
        return []
    return _decode_image(raw)


def _resource_qr_texts(archive: SafeZip, path: str) -> list[str]:
    """QR codes among the document's image resources (its folder)."""
    folder = posixpath.dirname(path)
    texts: list[str] = []
    images = [n for n in archive.names if n.startswith(folder) and n.endswith(_IMAGE_SUFFIXES)]
    for name in images[:_MAX_IMAGES_TRIED]:
        texts.extend(_decode_image(archive.read(name)))
    return texts


def _decode_image(raw: bytes) -> list[str]:
    from fapiao.recognize import qr_image

    try:
        with Image.open(io.BytesIO(raw)) as image:
            width, height = image.size
            if width * height > limits.MAX_QR_IMAGE_PIXELS or not 0.8 <= width / height <= 1.25:
                return []
            image.load()
            return qr_image.decode(image)
    except (
        UnidentifiedImageError,
        OSError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,  # an error while image.open_image's filter is on
    ) as error:
        logger.debug("OFD image not decodable: %s", error)
        return []


def _custom_tags(
    archive: SafeZip, path: str, document: Element, texts: dict[tuple[str, str], str]
) -> Reading:
    location = xml.text(xml.child(document, "CustomTags"))
    if location is None:
        return {}
    listing_path = resolve(path, location)
    listing = _xml(archive, listing_path)
    if listing is None:
        return {}

    def value_of(element: Element) -> str | None:
        refs = list(xml.children(element, "ObjectRef"))
        if not refs:
            return None
        joined = "".join(
            texts.get((r.get("PageRef", ""), (r.text or "").strip()), "") for r in refs
        )
        return joined.strip() or None

    reading: Reading = {}
    for tag in xml.descendants(listing, "CustomTag"):
        file_location = xml.text(xml.child(tag, "FileLoc"))
        if file_location is None:
            continue
        root = _xml(archive, resolve(listing_path, file_location))
        if root is None:
            continue
        found = ofd_fields.read(
            root, ofd_fields.EINVOICE, ofd_fields.EINVOICE_ITEM, "GoodsInfo", value_of
        )
        for key, value in found.items():
            reading.setdefault(key, value)
    return reading
