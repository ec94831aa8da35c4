"""The README's tables are generated: errors, settings and endpoints cannot drift."""

from __future__ import annotations

from pathlib import Path

from fapiao.local.readme import render
from fapiao.local.template import Template
from support import TEMPLATE


def test_readme_tables_are_what_their_sources_say(project_root: Path) -> None:
    readme = (project_root / "README.md").read_text(encoding="utf-8")
    assert render(readme, Template(TEMPLATE)) == readme, "run: make readme"


def test_readme_names_the_two_commands_and_deploy(project_root: Path) -> None:
    readme = (project_root / "README.md").read_text(encoding="utf-8")
    for command in ("make run", "make test", "sam build", "sam deploy --guided"):
        assert command in readme
