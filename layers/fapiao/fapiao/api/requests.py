"""Request bodies that are not JSON, read in one place for every API: forms, URL-encoded
or multipart (RFC 7578), and the files a multipart form carries, byte for byte.

A binary body survives API Gateway only base64-encoded (the API's binary media types
include multipart/form-data); a text body is taken as UTF-8. A body these functions
cannot read is the caller's fault: ``HubError`` INVALID_REQUEST, which each family
answers in its own envelope (400000, HUB40000, 4001, -1).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from email.parser import Parser
from email.policy import HTTP
from urllib.parse import parse_qsl

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from fapiao.catalogue.errors import HubError, Problem

URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


@dataclass(frozen=True)
class FormPart:
    """One part of a multipart/form-data body: its field name, file name and content."""

    name: str | None
    filename: str | None
    content: bytes


def _refuse(detail: str) -> HubError:
    return HubError(Problem.INVALID_REQUEST, detail)


def media_type(event: APIGatewayProxyEvent) -> tuple[str, str | None]:
    """The request's media type (lower case, "" when none is sent) and its boundary
    parameter, which keeps its case."""
    header = Message()
    header["Content-Type"] = event.headers.get("Content-Type") or ""  # case-insensitive
    if not header["Content-Type"]:
        return "", None
    boundary = header.get_param("boundary")
    return header.get_content_type(), boundary if isinstance(boundary, str) else None


def body_bytes(event: APIGatewayProxyEvent) -> bytes:
    """The body as sent: base64-decoded when API Gateway encoded it, else UTF-8."""
    try:
        if event.is_base64_encoded:
            return base64.b64decode(event.body or "", validate=True)
        return (event.body or "").encode("utf-8")
    except binascii.Error:
        raise _refuse("the body is not valid base64") from None
    except UnicodeEncodeError:  # a lone surrogate in a text body
        raise _refuse("the body is not UTF-8 text") from None


def multipart_parts(body: bytes, boundary: str) -> Iterator[FormPart]:
    """The parts of a multipart/form-data body in order, their content byte for byte."""
    delimiter = b"\r\n--" + boundary.encode("latin-1")
    for section in (b"\r\n" + body).split(delimiter)[1:]:
        if section.startswith(b"--"):  # the closing delimiter
            return
        head, separator, content = section.partition(b"\r\n\r\n")
        if not separator:
            continue
        # The head's first line is what followed the boundary (transport padding).
        text = head.split(b"\r\n", 1)[-1].decode("utf-8", "replace") + "\r\n\r\n"
        headers = Parser(policy=HTTP).parsestr(text, headersonly=True)
        name = headers.get_param("name", header="content-disposition")
        yield FormPart(name if isinstance(name, str) else None, headers.get_filename(), content)


def _multipart_boundary(event: APIGatewayProxyEvent, what: str) -> str:
    kind, boundary = media_type(event)
    if kind != MULTIPART or boundary is None:
        raise _refuse(f"{what} must come as {MULTIPART}")
    return boundary


def form_file(event: APIGatewayProxyEvent, field: str) -> tuple[str | None, bytes] | None:
    """(file name, bytes) of the first part named ``field`` of a multipart form; None
    when the form has no such part."""
    boundary = _multipart_boundary(event, field)
    for part in multipart_parts(body_bytes(event), boundary):
        if part.name == field:
            return part.filename, part.content
    return None


def form_fields(event: APIGatewayProxyEvent) -> dict[str, str]:
    """The text fields of a form, URL-encoded (also when no Content-Type is sent) or
    multipart; a repeated field keeps its last value, a multipart value is stripped."""
    kind, _ = media_type(event)
    if kind not in (URLENCODED, MULTIPART, ""):
        raise _refuse(f"Content-Type {event.headers.get('Content-Type')} is not a form")
    body = body_bytes(event)
    try:
        if kind == MULTIPART:
            parts = multipart_parts(body, _multipart_boundary(event, "the form"))
            return {p.name: p.content.decode("utf-8").strip() for p in parts if p.name}
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        raise _refuse("the body is not UTF-8 text") from None
