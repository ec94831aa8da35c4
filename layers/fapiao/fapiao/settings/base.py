"""What every group of FAPIAO_* settings shares: read from the environment, validated,
frozen, and read once per process.

A group subclasses ``EnvSettings``, which makes it a frozen, keyword-only dataclass; each
field is declared with ``setting(default=..., env=..., description=...)``, which names its
environment variable (the alias) and gives the README's line for it and its bounds
(``ge``, ``le``, ``gt``, ``min_length``). Construction validates, from variables
(``from_env``) or in code by field name (``FetchSettings(max_bytes=...)``), and raises
``SettingsError`` naming each malformed variable. An empty variable means the default,
as if it were unset.

No pydantic: a handler at cold start reads its settings without importing it (issue 13).
A field may be ``str``, ``int``, ``float``, ``bool`` (pydantic's spellings), ``Path``, a
``StrEnum``, ``Secret``, or any of those ``| None``; a string of the variable's spelling
is accepted for each.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import types
import typing
from collections.abc import Callable, Mapping
from enum import Enum
from pathlib import Path
from typing import Any, ClassVar, Self, TypeVar, cast, dataclass_transform

__all__ = ["EnvSettings", "Secret", "SettingField", "SettingsError", "reset_settings", "setting"]

_T = TypeVar("_T")


class SettingsError(ValueError):
    """A FAPIAO_* variable that is missing or malformed; says which and why."""


class Secret:
    """A string that is never shown: its repr and str are masked (pydantic's SecretStr)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')" if self._value else "Secret('')"

    def __str__(self) -> str:
        return "**********" if self._value else ""

    def __len__(self) -> int:
        return len(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclasses.dataclass(frozen=True)
class SettingField:
    """One field of a settings group: its name in code, its variable, default and line."""

    name: str
    alias: str  # the environment variable
    default: object
    description: str
    ge: float | None = None
    le: float | None = None
    gt: float | None = None
    min_length: int | None = None


_METADATA = "fapiao.settings"


def setting(
    *,
    default: _T,
    env: str,
    description: str,
    ge: float | None = None,
    le: float | None = None,
    gt: float | None = None,
    min_length: int | None = None,
) -> _T:
    """A field of an ``EnvSettings`` group, read from the variable ``env``.

    Typed as its default, so that ``port: int = setting(default=3000, ...)`` checks; it is
    a dataclass field carrying the variable, description and bounds.
    """
    bounds = {"ge": ge, "le": le, "gt": gt, "min_length": min_length}
    spec = {"alias": env, "description": description, **bounds}
    return dataclasses.field(default=default, metadata={_METADATA: spec})


_Variables = tuple[tuple[str, str], ...]

# The last settings each group read from os.environ, and the variables it read them from.
_CURRENT: dict[type[EnvSettings], tuple[_Variables, EnvSettings]] = {}

# Each group's fields, and how to read each one's value, once the group is first used.
_Convert = Callable[[object], object]
_FIELDS: dict[type[EnvSettings], tuple[tuple[SettingField, _Convert], ...]] = {}


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(setting,))
class EnvSettings:
    """A group of FAPIAO_* variables, one ``setting(...)`` field each.

    Each subclass is made a frozen, keyword-only dataclass as it is defined (so none can
    forget to be); its ``_check`` holds the rules across fields.
    """

    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        dataclasses.dataclass(frozen=True, kw_only=True)(cls)

    def __post_init__(self) -> None:
        problems = []
        for field, convert in _fields(type(self)):
            try:
                value = convert(getattr(self, field.name))
                _within_bounds(field, value)
            except ValueError as error:
                problems.append(f"{field.alias}: {error}")
            else:
                object.__setattr__(self, field.name, value)
        if not problems:
            try:
                self._check()
            except ValueError as error:
                problems.append(str(error))
        if problems:
            raise SettingsError(f"invalid settings: {'; '.join(problems)}")

    def _check(self) -> None:
        """Rules across fields, after each field is valid: raise ValueError to refuse."""

    @classmethod
    def settings_fields(cls) -> tuple[SettingField, ...]:
        """Every field of this group, in order: name, variable (alias), default, description."""
        return tuple(field for field, _ in _fields(cls))

    @classmethod
    def variables(cls, env: Mapping[str, str]) -> _Variables:
        """The variables of this group that ``env`` sets (not to the empty string)."""
        return tuple(
            (field.alias, env[field.alias])
            for field in cls.settings_fields()
            if env.get(field.alias, "") != ""
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Self:
        """The settings ``env`` (default: os.environ) gives, validated now, every call.

        Raises ``SettingsError`` naming each malformed variable.
        """
        given = dict(cls.variables(os.environ if env is None else env))
        values = {f.name: given[f.alias] for f in cls.settings_fields() if f.alias in given}
        return cls(**values)

    @classmethod
    def current(cls) -> Self:
        """This process's settings: validated from os.environ on the first call, then the
        same object on every later call.

        In Lambda the environment never changes, so they are read once per container.
        A call after os.environ changed this group's variables reads them again (a test
        that sets variables and imports a handler afresh gets a fresh cold start);
        ``reset_settings()`` forgets every group's.
        """
        variables = cls.variables(os.environ)
        cached = _CURRENT.get(cls)
        if cached is not None and cached[0] == variables and isinstance(cached[1], cls):
            return cached[1]
        settings = cls.from_env(dict(variables))
        _CURRENT[cls] = (variables, settings)
        return settings


def reset_settings() -> None:
    """Forget what ``current()`` read: the next call of each group reads os.environ."""
    _CURRENT.clear()


# --- reading values ----------------------------------------------------------------------


def _fields(cls: type[EnvSettings]) -> tuple[tuple[SettingField, _Convert], ...]:
    found = _FIELDS.get(cls)
    if found is None:
        hints = typing.get_type_hints(cls)
        found = tuple(
            (_described(field), _converter(hints[field.name])) for field in dataclasses.fields(cls)
        )
        _FIELDS[cls] = found
    return found


def _described(field: dataclasses.Field[Any]) -> SettingField:
    spec = field.metadata.get(_METADATA)
    if spec is None:
        raise TypeError(f"field {field.name} is not declared with setting(...)")
    return SettingField(name=field.name, default=field.default, **spec)


def _converter(hint: object) -> _Convert:
    """How to read a value of the type ``hint``: from itself or from a variable's text."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        kinds = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if len(kinds) != 1:
            raise TypeError(f"a setting is one type or that type | None, not {hint}")
        inner = _converter(kinds[0])
        return lambda value: None if value is None else inner(value)
    if isinstance(hint, type):
        for kind, read in _READERS.items():
            if issubclass(hint, kind):
                return functools.partial(read, hint)
    raise TypeError(f"a setting cannot be of type {hint}")


def _read_str(_: type, value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("Input should be a valid string")
    return value


def _read_bool(_: type, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
    raise ValueError("Input should be a valid boolean, unable to interpret input")


_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})


def _read_int(_: type, value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        whole, dot, zeros = value.strip().partition(".")  # "3000.0" is 3000, as in pydantic
        if whole.isascii() and (not dot or (zeros and not zeros.strip("0"))):
            try:
                return int(whole)
            except ValueError:
                pass
        raise ValueError("Input should be a valid integer, unable to parse string as an integer")
    raise ValueError("Input should be a valid integer")


def _read_float(_: type, value: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            raise ValueError(
                "Input should be a valid number, unable to parse string as a number"
            ) from None
    else:
        raise ValueError("Input should be a valid number")
    if not math.isfinite(number):
        raise ValueError("Input should be a finite number")
    return number


def _read_path(_: type, value: object) -> Path:
    if isinstance(value, Path):
        return value
    if isinstance(value, str):
        return Path(value)
    raise ValueError("Input is not a valid path")


def _read_enum(kind: type, value: object) -> Enum:
    if isinstance(value, kind):
        return cast(Enum, value)
    try:
        return cast(Enum, kind(value))
    except ValueError:
        choices = [repr(member.value) for member in cast(type[Enum], kind)]
        spelled = " or ".join([", ".join(choices[:-1]), choices[-1]] if choices[:-1] else choices)
        raise ValueError(f"Input should be {spelled}") from None


def _read_secret(_: type, value: object) -> Secret:
    if isinstance(value, Secret):
        return value
    if isinstance(value, str):
        return Secret(value)
    raise ValueError("Input should be a valid string")


# Checked in order: bool before int (a bool is an int), an enum before str (a StrEnum is).
_READERS: dict[type, Callable[[type, object], object]] = {
    bool: _read_bool,
    Enum: _read_enum,
    int: _read_int,
    float: _read_float,
    str: _read_str,
    Path: _read_path,
    Secret: _read_secret,
}


def _within_bounds(field: SettingField, value: object) -> None:
    if value is None:
        return
    if isinstance(value, int | float):
        if field.ge is not None and not value >= field.ge:
            raise ValueError(f"Input should be greater than or equal to {_number(field.ge)}")
        if field.gt is not None and not value > field.gt:
            raise ValueError(f"Input should be greater than {_number(field.gt)}")
        if field.le is not None and not value <= field.le:
            raise ValueError(f"Input should be less than or equal to {_number(field.le)}")
    if field.min_length is not None and len(cast(str | Secret, value)) < field.min_length:
        raise ValueError(f"String should have at least {field.min_length} characters")


def _number(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() else str(bound)
