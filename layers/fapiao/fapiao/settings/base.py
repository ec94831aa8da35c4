"""What every group of FAPIAO_* settings shares: read from the environment, validated,
frozen, and read once per process.

Each field's alias is its environment variable and its description is the README's
line for it. An empty variable means the default, as if it were unset.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Self

from pydantic import BaseModel, ConfigDict, ValidationError

__all__ = ["EnvSettings", "SettingsError", "reset_settings"]


class SettingsError(ValueError):
    """A FAPIAO_* variable that is missing or malformed; says which and why."""


_Variables = tuple[tuple[str, str], ...]

# The last settings each model read from os.environ, and the variables it read them from.
_CURRENT: dict[type[EnvSettings], tuple[_Variables, EnvSettings]] = {}


class EnvSettings(BaseModel):
    """A group of FAPIAO_* variables, one field each (the alias names the variable)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    @classmethod
    def variables(cls, env: Mapping[str, str]) -> _Variables:
        """The variables of this model that ``env`` sets (not to the empty string)."""
        return tuple(
            (field.alias, env[field.alias])
            for field in cls.model_fields.values()
            if field.alias and env.get(field.alias, "") != ""
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Self:
        """The settings ``env`` (default: os.environ) gives, validated now, every call.

        Raises ``SettingsError`` naming each malformed variable.
        """
        values = dict(cls.variables(os.environ if env is None else env))
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
            )
            raise SettingsError(f"invalid settings: {problems}") from None

    @classmethod
    def current(cls) -> Self:
        """This process's settings: validated from os.environ on the first call, then the
        same object on every later call.

        In Lambda the environment never changes, so they are read once per container.
        A call after os.environ changed this model's variables reads them again (a test
        that sets variables and imports a handler afresh gets a fresh cold start);
        ``reset_settings()`` forgets every model's.
        """
        variables = cls.variables(os.environ)
        cached = _CURRENT.get(cls)
        if cached is not None and cached[0] == variables and isinstance(cached[1], cls):
            return cached[1]
        settings = cls.from_env(dict(variables))
        _CURRENT[cls] = (variables, settings)
        return settings


def reset_settings() -> None:
    """Forget what ``current()`` read: the next call of each model reads os.environ."""
    _CURRENT.clear()
