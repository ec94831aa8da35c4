"""A zip read as hostile input: bounded entry count, sizes and compression ratio.

An OFD file is a zip. Sizes in a zip's directory are the sender's word, so they are
checked first and then enforced while reading: no entry is ever read past
``limits.MAX_ZIP_ENTRY_BYTES``, nor all entries together past ``MAX_ZIP_TOTAL_BYTES``.
Paths are matched without a leading "/" and without case (OFD writers disagree on both).
"""

from __future__ import annotations

import io
import posixpath
import zipfile
import zlib

from fapiao.catalogue.errors import HubError, Problem
from fapiao.recognize import limits


class SafeZip:
    def __init__(self, data: bytes) -> None:
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self._zip.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as error:
            raise HubError(Problem.UNRECOGNISABLE, f"not a readable zip ({error})") from None
        if len(infos) > limits.MAX_ZIP_ENTRIES:
            raise HubError(
                Problem.FILE_TOO_LARGE,
                f"the zip holds {len(infos)} entries; at most {limits.MAX_ZIP_ENTRIES} are read",
            )
        self._entries: dict[str, zipfile.ZipInfo] = {}
        declared = 0
        for info in infos:
            if info.is_dir():
                continue
            _check_declared(info)
            declared += info.file_size
            self._entries.setdefault(normalise(info.filename), info)
        if declared > limits.MAX_ZIP_TOTAL_BYTES:
            raise HubError(
                Problem.FILE_TOO_LARGE,
                f"the zip unpacks to {declared} bytes; at most {limits.MAX_ZIP_TOTAL_BYTES}",
            )
        self._read_total = 0

    @property
    def names(self) -> list[str]:
        """Every file entry's path, normalised (see ``normalise``)."""
        return list(self._entries)

    def exists(self, path: str) -> bool:
        return normalise(path) in self._entries

    def read(self, path: str) -> bytes:
        """The entry's bytes; ``KeyError`` if absent, ``HubError`` past any limit."""
        info = self._entries[normalise(path)]
        limit = limits.MAX_ZIP_ENTRY_BYTES
        try:
            with self._zip.open(info) as stream:
                data = stream.read(limit + 1)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError) as error:
            raise HubError(
                Problem.UNRECOGNISABLE, f"zip entry {path!r} is damaged ({error})"
            ) from None
        except RuntimeError as error:  # an encrypted entry
            raise HubError(Problem.UNRECOGNISABLE, f"zip entry {path!r}: {error}") from None
        if len(data) > limit:
            raise HubError(Problem.FILE_TOO_LARGE, f"zip entry {path!r} unpacks past {limit} bytes")
        _check_ratio(path, len(data), info.compress_size)
        self._read_total += len(data)
        if self._read_total > limits.MAX_ZIP_TOTAL_BYTES:
            raise HubError(
                Problem.FILE_TOO_LARGE,
                f"the zip unpacks past {limits.MAX_ZIP_TOTAL_BYTES} bytes",
            )
        return data


def normalise(path: str) -> str:
    """'/Doc_0/./Pages/../Document.xml' -> 'doc_0/document.xml'."""
    return posixpath.normpath("/" + path.replace("\\", "/")).lstrip("/").lower()


def resolve(base: str, location: str) -> str:
    """An OFD location: absolute ("/Doc_0/...") or relative to the folder of ``base``."""
    location = location.strip()
    if location.startswith("/"):
        return normalise(location)
    return normalise(posixpath.join(posixpath.dirname(normalise(base)), location))


def _check_declared(info: zipfile.ZipInfo) -> None:
    if info.file_size > limits.MAX_ZIP_ENTRY_BYTES:
        raise HubError(
            Problem.FILE_TOO_LARGE,
            f"zip entry {info.filename!r} declares {info.file_size} bytes unpacked",
        )
    _check_ratio(info.filename, info.file_size, info.compress_size)


def _check_ratio(name: str, size: int, compressed: int) -> None:
    if size > limits.ZIP_RATIO_FLOOR and size > limits.MAX_ZIP_RATIO * max(compressed, 1):
        raise HubError(
            Problem.FILE_TOO_LARGE,
            f"zip entry {name!r} expands {size // max(compressed, 1)}-fold: a zip bomb",
        )
