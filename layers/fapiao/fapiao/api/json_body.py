"""The one JSON reader of request bodies, for every API family: strict where a hostile
body could hurt, tolerant everywhere else.

``load_json`` reads numbers exactly (money is ``Decimal``); this adds what a body sent by
anyone needs on top: no number longer than ``MAX_NUMBER_LENGTH`` characters or beyond
``10**MAX_NUMBER_EXPONENT`` (Python refuses to turn a 4,300-digit integer into text, and
turning ``1e999999999`` into an ``int`` never ends), no nesting deeper than ``MAX_DEPTH``
(the parser, pydantic and the encoders recurse), and no string holding half of a UTF-16
surrogate pair (``"\\ud800"`` parses, but is not text: no answer that echoes it can be
written as UTF-8). None of the five specs comes near these bounds. A body that breaks
one is the caller's fault: ``HubError`` INVALID_REQUEST, which each family answers in its
own envelope (400000, HUB40000, 4001, -1).
"""

from __future__ import annotations

import re
from decimal import Decimal
from itertools import accumulate, count
from operator import sub
from typing import Any

import simplejson

from fapiao.catalogue.errors import HubError, Problem

MAX_DEPTH = 64  # arrays and objects inside one another
MAX_NUMBER_LENGTH = 64  # characters of one number as written, sign and exponent included
MAX_NUMBER_EXPONENT = 64  # |adjusted exponent|: 1e64 passes, 1e65 and 1e-65 do not

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEPS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")  # depth + 1 per opening, - 1 per closing
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _refuse(detail: str) -> HubError:
    return HubError(Problem.INVALID_REQUEST, detail)


def _check_length(text: str) -> None:
    if len(text) > MAX_NUMBER_LENGTH:
        raise _refuse(f"a number in the body has more than {MAX_NUMBER_LENGTH} characters")


def _integer(text: str) -> int:
    _check_length(text)
    return int(text)


def _decimal(text: str) -> Decimal:
    _check_length(text)
    value = Decimal(text)  # the scanner hands over JSON number literals only
    if abs(value.adjusted()) > MAX_NUMBER_EXPONENT:
        raise _refuse(f"a number in the body is beyond 1e±{MAX_NUMBER_EXPONENT}")
    return value


def nests_too_deep(text: str) -> bool:
    """Do arrays and objects nest more than ``MAX_DEPTH`` deep in ``text``? Brackets inside
    strings do not count. Free for a body with few brackets, linear (in C) otherwise."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    outside = _STRING.sub("", text)
    steps = _NOT_BRACKET.sub("", outside).encode("ascii").translate(_STEPS)
    # After i + 1 brackets the depth is (sum of their steps) - (i + 1).
    return max(map(sub, accumulate(steps), count(1)), default=0) > MAX_DEPTH


def load_json_body(text: str | bytes) -> Any:
    """Parse a request body as ``load_json`` does (fractions and exponents as ``Decimal``);
    a number or nesting past the bounds above, or a lone surrogate, is INVALID_REQUEST."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise _refuse("body is not UTF-8 text") from None
    if nests_too_deep(text):
        raise _refuse(f"the body nests arrays and objects more than {MAX_DEPTH} deep")
    try:
        value = simplejson.loads(text, parse_int=_integer, parse_float=_decimal)
    except simplejson.JSONDecodeError as error:
        raise _refuse(f"body is not valid JSON: {error}") from None
    except RecursionError:  # not expected after the depth check; never a 500 all the same
        raise _refuse(f"the body nests arrays and objects more than {MAX_DEPTH} deep") from None
    if _SURROGATE_ESCAPE.search(text) and not _is_text(value):
        raise _refuse("a string in the body holds half of a UTF-16 surrogate pair")
    return value


def _is_text(value: Any) -> bool:
    """Can every string of ``value`` (keys too) be written as UTF-8? (Paired escapes
    such as ``"\\ud83d\\ude00"`` parse into one character and can.)"""
    try:
        simplejson.dumps(value, use_decimal=True, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
