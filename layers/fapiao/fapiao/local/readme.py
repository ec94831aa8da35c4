"""Rewrite the README's generated tables (errors, settings, endpoints) from their sources.

`make readme` runs it; tests compare the README with the same functions, so a new code,
setting or route that is not in the README fails the build.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from fapiao import settings
from fapiao.catalogue import errors
from fapiao.local.template import Template


def endpoints_table(template: Template) -> str:
    lines = ["| method | path | function | what it does |", "|---|---|---|---|"]
    for route in sorted(template.routes, key=lambda r: (r.path, r.method)):
        description = template.resources[route.function]["Properties"].get("Description", "")
        lines.append(f"| {route.method} | `{route.path}` | {route.function} | {description} |")
    return "\n".join(lines)


def sections(template: Template) -> dict[str, str]:
    return {
        "errors": errors.markdown_table(),
        "settings": settings.markdown_table(),
        "endpoints": endpoints_table(template),
    }


def render(readme: str, template: Template) -> str:
    for name, table in sections(template).items():
        pattern = re.compile(
            rf"(<!-- {name}:start -->\n).*?(\n<!-- {name}:end -->)", flags=re.DOTALL
        )
        found = pattern.search(readme)
        if found is None:
            raise ValueError(f"README has no {name} markers")
        readme = (
            readme[: found.start()]
            + found.group(1)
            + table
            + found.group(2)
            + readme[found.end() :]
        )
    return readme


def main(root: Path = Path()) -> int:
    path = root / "README.md"
    path.write_text(
        render(path.read_text(encoding="utf-8"), Template(root / "template.yaml")), encoding="utf-8"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
