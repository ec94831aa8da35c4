"""Recognition targets that misbehave for the worker pool's tests
(``RecognitionWorkers(target="crash_targets:misbehave")``; tests/ is on the workers'
path as it is on pytest's).

``misbehave(data)`` reads the first word of the file as an order (after a PDF header
"%PDF-1.7 ", which lets an order through ``recognize``'s checks); anything else goes to
the real engine (``recognize_here``)."""

from __future__ import annotations

import ctypes
import os
import signal
import time

from fapiao.catalogue.errors import HubError, Problem
from fapiao.recognize import RecognizedInvoice, recognize_here


def misbehave(data: bytes) -> list[RecognizedInvoice]:
    order, _, rest = data.removeprefix(b"%PDF-1.7 ").partition(b" ")
    if order == b"segfault":
        os.kill(os.getpid(), signal.SIGSEGV)
    elif order == b"null":
        ctypes.string_at(0)  # a real read of address 0
    elif order == b"abort":
        os.abort()
    elif order == b"exit":
        os._exit(int(rest or b"3"))
    elif order == b"loop":
        while True:
            time.sleep(0.01)
    elif order == b"hog":
        megabytes = int(rest)
        return [bytearray(megabytes * 1024 * 1024)]  # type: ignore[list-item]
    elif order == b"starve":
        return _starved(rest)
    elif order == b"refuse":
        raise HubError(Problem.FILE_TOO_LARGE, rest.decode())
    elif order == b"fail":
        raise ValueError(rest.decode())
    elif order == b"sleep":
        time.sleep(float(rest))
        return []
    elif order == b"pid":
        return [os.getpid()]  # type: ignore[list-item]
    return recognize_here(data)


def _starved(data: bytes) -> list[RecognizedInvoice]:
    """The real engine on ``data`` (an image), with Pillow's decoder out of memory."""
    from fapiao.recognize import image

    def out_of_memory(*_: object) -> list[RecognizedInvoice]:
        raise MemoryError

    original = image.recognize_image
    image.recognize_image = out_of_memory
    try:
        return recognize_here(data)
    finally:
        image.recognize_image = original
