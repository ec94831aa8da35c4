"""Rewrite the README's generated tables (errors, settings, endpoints, roles, the outcome
event's schema) from their sources.

`make readme` runs it; tests compare the README with the same functions, so a new code,
setting or route that is not in the README fails the build.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from fapiao import settings
from fapiao.api.roles import GRANTS, allows, grant_for
from fapiao.catalogue import errors
from fapiao.clients import Role
from fapiao.local.template import Template
from fapiao.model.pipeline import Outcome


def endpoints_table(template: Template) -> str:
    lines = ["| method | path | function | what it does |", "|---|---|---|---|"]
    for route in sorted(template.routes, key=lambda r: (r.path, r.method)):
        description = template.resources[route.function]["Properties"].get("Description", "")
        lines.append(f"| {route.method} | `{route.path}` | {route.function} | {description} |")
    return "\n".join(lines)


def roles_table(template: Template) -> str:
    """Which role may call which route (``fapiao.api.roles``): every route of the
    template that needs a key, then the table's prefixes no route has yet."""
    roles = list(Role)
    lines = [
        "| method | path | " + " | ".join(role.value for role in roles) + " |",
        "|---|---|" + "---|" * len(roles),
    ]

    def marks(path: str) -> str:
        return " | ".join("yes" if allows(role, path) else "no" for role in roles)

    keyed = sorted((r for r in template.routes if r.authorizer), key=lambda r: (r.path, r.method))
    for route in keyed:
        lines.append(f"| {route.method} | `{route.path}` | {marks(route.path)} |")
    used = {grant_for(route.path) for route in keyed}
    for grant in GRANTS:
        if grant not in used:
            lines.append(f"| any | `{grant.prefix}…` — {grant.what} | {marks(grant.prefix)} |")
    return "\n".join(lines)


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return dict(defs[ref.rsplit("/", 1)[-1]])
    return schema


def _json_type(schema: dict[str, Any], defs: dict[str, Any]) -> str:
    """A JSON schema's type in words: "integer or null", "object {code, name}", ..."""
    if "anyOf" in schema:
        return " or ".join(_json_type(option, defs) for option in schema["anyOf"])
    schema = _resolve(schema, defs)
    if "enum" in schema:
        return "one of " + ", ".join(f"`{value}`" for value in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "object" and "properties" in schema:
        return "object {" + ", ".join(schema["properties"]) + "}"
    if kind == "string" and schema.get("format") == "date-time":
        return "string (ISO 8601 time)"
    return str(kind)


def _nested(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """The properties of an object field, when each of them says what it means."""
    options = schema.get("anyOf", [schema])
    for option in options:
        properties = _resolve(option, defs).get("properties") or {}
        if properties and all("description" in p for p in properties.values()):
            return dict(properties)
    return {}


def event_table(model: type[BaseModel]) -> str:
    """An event's ``detail`` as a table: each field of ``model``, its JSON type and what it
    means (the field's description); an object whose fields are described adds a row each."""
    schema = model.model_json_schema()
    defs = schema.get("$defs", {})
    lines = ["| field | type | meaning |", "|---|---|---|"]
    for name, field in schema["properties"].items():
        lines.append(f"| `{name}` | {_json_type(field, defs)} | {field.get('description', '')} |")
        for inner, sub in _nested(field, defs).items():
            lines.append(
                f"| `{name}.{inner}` | {_json_type(sub, defs)} | {sub.get('description', '')} |"
            )
    return "\n".join(lines)


def sections(template: Template) -> dict[str, str]:
    return {
        "errors": errors.markdown_table(),
        "settings": settings.markdown_table(),
        "endpoints": endpoints_table(template),
        "roles": roles_table(template),
        "events": event_table(Outcome),
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
