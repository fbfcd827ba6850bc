"""What every request model shares: no NUL characters, no non-finite numbers, no true-as-1.

PostgreSQL cannot store NUL in text (SQLite can), and JSON cannot carry NaN or Infinity, so
such input is refused where it enters, with the same 422 on every database. The database
guard below catches what reaches SQL without a model (form fields, query strings)."""

from __future__ import annotations

import math
from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator, model_validator
from sqlalchemy import event
from sqlalchemy.engine import Engine

from server.errors import AppError

# Deeper JSON than this is refused before it is walked (the walk is recursive).
MAX_DEPTH = 64


class InputRejected(AppError):
    status_code = 422
    error = "validation_error"


def problem(value: object, path: str = "", depth: int = 0) -> str | None:
    """Why a decoded JSON value cannot be accepted ('field: reason'), or None."""
    if depth > MAX_DEPTH:
        return f"{path or 'body'}: nested deeper than {MAX_DEPTH} levels"
    if isinstance(value, str):
        if "\x00" in value:
            return f"{path or 'body'}: contains a NUL character (\\u0000)"
    elif isinstance(value, float):
        if not math.isfinite(value):
            return f"{path or 'body'}: must be a finite number (not NaN or Infinity)"
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            found = problem(key, where, depth + 1) or problem(item, where, depth + 1)
            if found:
                return found
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            found = problem(item, f"{path}.{i}" if path else str(i), depth + 1)
            if found:
                return found
    return None


class Input(BaseModel):
    """Base of every request body: unknown fields, NUL, NaN/Infinity and booleans given for
    numbers are all refused with a 422 that names the field."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _clean(cls, data: Any) -> Any:
        found = problem(data)
        if found:
            raise ValueError(found)
        return data

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, bool) and info.field_name is not None:
            annotation = cls.model_fields[info.field_name].annotation
            kinds = {annotation, *get_args(annotation)}
            if bool not in kinds and kinds & {int, float}:
                raise ValueError("must be a number, not true or false")
        return value


def _has_nul(parameters: Any) -> bool:
    if isinstance(parameters, str):
        return "\x00" in parameters
    if isinstance(parameters, dict):
        return any(_has_nul(v) for v in parameters.values())
    if isinstance(parameters, list | tuple):
        return any(_has_nul(v) for v in parameters)
    return False


def install_nul_guard(engine: Engine) -> None:
    """Refuse (422) any SQL parameter holding a NUL character, before the database sees it,
    so SQLite and PostgreSQL answer alike and a form field cannot cause a 500."""

    @event.listens_for(engine, "before_cursor_execute", retval=True)
    def _guard(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
               executemany: bool) -> tuple[str, Any]:
        if _has_nul(parameters):
            raise InputRejected("a value contains a NUL character (\\u0000), which cannot be "
                                "stored; remove it")
        return statement, parameters
