"""The base of every hw-model input: finite, plain, bounded numbers.

A document from a person (CLI, form, scenario file) can say `1e400` (infinite once parsed),
`Infinity`, `true` where a count belongs, or a sequence of 10^12 tokens. Each is refused
here with a message naming the field, instead of overflowing or "fitting" downstream.
"""

from __future__ import annotations

import types
import typing
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

# Bounds far past any real job, so a sane input never meets them, yet low enough that the
# models' arithmetic (products of a few of them) stays finite and meaningful.
MAX_TOKENS = 16_777_216  # 2^24: past the longest published context (10M tokens, Llama 4 Scout)
MAX_WIDTH = 1_048_576  # hidden, ffn, head and vocabulary widths (largest published: 256k)
MAX_LAYERS = 10_000
MAX_GPUS = 10_000_000
MAX_MAGNITUDE = 1e18  # any other number (bytes, seconds, GiB, GB/s)


def _numeric(annotation: Any) -> bool:
    """Whether a field holds an int or float (possibly optional or in a union)."""
    if annotation in (int, float):
        return True
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_numeric(a) for a in typing.get_args(annotation))
    if origin is typing.Annotated:
        return _numeric(typing.get_args(annotation)[0])
    return False


def _numeric_fields(cls: type[BaseModel]) -> frozenset[str]:
    """Names of cls's int/float fields, computed once per class."""
    cached = cls.__dict__.get("_hw_numeric_fields")
    if cached is None:
        cached = frozenset(n for n, f in cls.model_fields.items() if _numeric(f.annotation))
        type.__setattr__(cls, "_hw_numeric_fields", cached)
    return cast(frozenset[str], cached)


class HwInput(BaseModel):
    """Forbids unknown fields, non-finite numbers, booleans as numbers and huge magnitudes."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _plain_number(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, int | float) or info.field_name not in _numeric_fields(cls):
            return value
        if isinstance(value, bool):
            raise ValueError("must be a number, not true/false")
        if not abs(value) <= MAX_MAGNITUDE:
            raise ValueError(f"must be a finite number of magnitude at most {MAX_MAGNITUDE:g}")
        return value
