"""The README's tables are generated: errors, settings and endpoints cannot drift."""

from __future__ import annotations

from pathlib import Path

from fapiao.local.readme import event_table, render
from fapiao.local.template import Template
from fapiao.model.pipeline import Outcome
from support import TEMPLATE


def test_readme_tables_are_what_their_sources_say(project_root: Path) -> None:
    readme = (project_root / "README.md").read_text(encoding="utf-8")
    assert render(readme, Template(TEMPLATE)) == readme, "run: make readme"


def test_readme_names_the_two_commands_and_deploy(project_root: Path) -> None:
    readme = (project_root / "README.md").read_text(encoding="utf-8")
    for command in ("make run", "make test", "sam build", "sam deploy --guided"):
        assert command in readme


def test_the_event_schema_is_every_field_of_the_outcome_with_its_type_and_meaning() -> None:
    rows = event_table(Outcome).splitlines()[2:]
    fields = [row.split("|")[1].strip().strip("`") for row in rows]
    assert [f for f in fields if "." not in f] == list(Outcome.model_fields)
    assert "object.version_id" in fields
    by_field = {row.split("|")[1].strip().strip("`"): row for row in rows}
    assert "| integer or null |" in by_field["message_code"]
    assert "| object {code, name} or null |" in by_field["invoice_type"]
    assert all(row.split("|")[3].strip() for row in rows), "a field says nothing"
