"""The JSON examples of the specs in ../shared/specs, for contract tests.

An example is a block that starts with ``{`` at the beginning of a line (some sit in
```json fences, some are bare). Its extent is found by a JSON decoder and the text is
parsed with ``load_json``, so numbers keep their scale (996.00 stays 996.00). A module
that asks for examples is skipped, with a message saying where the specs were looked
for, when the specs folder is absent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import simplejson

from fapiao.wire.common import load_json

# tests/contract/spec_examples.py -> the project root's sibling folder shared/specs
SPECS_DIR = Path(__file__).parents[2].parent / "shared" / "specs"

_BLOCK_START = re.compile(r"^[ \t]*\{", re.MULTILINE)


@dataclass(frozen=True)
class SpecExample:
    """One JSON example: which spec, at which line, and its parsed value."""

    spec: str  # the file name
    line: int  # 1-based line of the opening brace
    value: Any

    @property
    def id(self) -> str:
        """A short name for pytest ids: "000:L43"."""
        return f"{self.spec[:3]}:L{self.line}"


def spec_file(spec_prefix: str) -> Path:
    """The spec whose file name starts with ``spec_prefix`` + "_" (skips when absent)."""
    if not SPECS_DIR.is_dir():
        pytest.skip(
            f"spec folder {SPECS_DIR} is absent: the contract tests need ../shared/specs",
            allow_module_level=True,
        )
    matches = sorted(SPECS_DIR.glob(f"{spec_prefix}_*.txt"))
    if len(matches) != 1:
        raise FileNotFoundError(
            f"expected one spec {spec_prefix}_*.txt in {SPECS_DIR}, found {len(matches)}"
        )
    return matches[0]


def located_examples(spec_prefix: str) -> list[SpecExample]:
    """Every JSON example of the spec, in the order of the document."""
    path = spec_file(spec_prefix)
    text = path.read_text(encoding="utf-8")
    decoder = simplejson.JSONDecoder()
    found: list[SpecExample] = []
    position = 0
    while match := _BLOCK_START.search(text, position):
        start = match.end() - 1
        try:
            _, end = decoder.raw_decode(text, start)
        except simplejson.JSONDecodeError:
            position = match.end()  # a brace in prose or code, not an example
            continue
        line = text.count("\n", 0, start) + 1
        found.append(SpecExample(path.name, line, load_json(text[start:end])))
        position = end  # nested objects belong to this example
    return found


def examples(spec_prefix: str) -> list[Any]:
    """The parsed JSON examples of the spec ``<spec_prefix>_*.txt``, in document order."""
    return [example.value for example in located_examples(spec_prefix)]
