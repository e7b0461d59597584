"""Reading a settings model from environment variables, with errors that name the variable."""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ValidationError

from agent_memory.core.errors import ConfigurationError

M = TypeVar("M", bound=BaseModel)


def settings_error(
    exc: ValidationError, names: Mapping[str, str] | None = None
) -> ConfigurationError:
    """One ``ConfigurationError`` listing every problem: the field, and its variable when
    ``names`` (field -> variable) has one."""
    names = names or {}

    def where(loc: tuple[int | str, ...]) -> str:
        field = ".".join(str(p) for p in loc)
        variable = names.get(str(loc[0])) if loc else None
        return f"{field} ({variable})" if variable else field

    problems = "; ".join(f"{where(e['loc'])}: {e['msg']}" for e in exc.errors())
    return ConfigurationError(f"invalid settings: {problems}")


class ConfigModel(BaseModel):
    """A settings model whose bad values raise ``ConfigurationError``, never pydantic's error
    (``model_validate`` goes through ``__init__`` too, as pydantic calls a custom one)."""

    #: Field -> environment variable, for error messages.
    env_names: ClassVar[Mapping[str, str]] = {}

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise settings_error(exc, self.env_names) from None


def model_from_env(
    model: type[M],
    names: Mapping[str, str],
    environ: Mapping[str, str] | None,
) -> M:
    """Build ``model`` from the variables in ``names`` (field -> variable); blanks are unset."""
    try:
        return model.model_validate(env_values(names, environ))
    except ValidationError as exc:
        raise settings_error(exc, names) from None


def env_values(
    names: Mapping[str, str],
    environ: Mapping[str, str] | None,
    *,
    lowercase: Collection[str] = (),
) -> dict[str, Any]:
    """The raw values of the variables in ``names`` (field -> variable) that are set."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for field, name in names.items():
        raw = env.get(name, "").strip()
        if raw:
            values[field] = raw.lower() if field in lowercase else raw
    return values
