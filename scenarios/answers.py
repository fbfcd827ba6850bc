"""Validation of a candidate's answers against a scenario's answer form.

An answer document (ANSWER.json, calibration files) is
``{"scenario": ID, "seed": N, "answers": {field_id: value}}``; values per field type:
choice -> str, multi_choice -> [str], integer -> int, number -> float, short_text -> str,
long_text -> str, or {section_id: str} when the field has sections, code -> {file: str}.
Missing fields mean "not answered".
"""

from __future__ import annotations

from typing import Any

from scenarios.models import (
    AnswerForm,
    ChoiceField,
    CodeField,
    IntegerField,
    LongTextField,
    MultiChoiceField,
    NumberField,
    ShortTextField,
)


def answer_problems(form: AnswerForm, answers: dict[str, Any]) -> list[tuple[str, str]]:
    """(field id, reason) for every value that does not fit the form; [] when all fit."""
    problems: list[tuple[str, str]] = []
    by_id = {f.id: f for f in form.fields}
    for key in answers:
        if key not in by_id:
            problems.append((key, "no such answer field"))
    for fid, value in answers.items():
        f = by_id.get(fid)
        if f is None or value is None:
            continue
        reason = _problem(f, value)
        if reason:
            problems.append((fid, reason))
    return problems


def _problem(f: Any, v: Any) -> str | None:
    if isinstance(f, ChoiceField):
        allowed = [c.value for c in f.choices]
        return None if v in allowed else f"{v!r} is not one of {allowed}"
    if isinstance(f, MultiChoiceField):
        allowed = [c.value for c in f.choices]
        if not isinstance(v, list) or any(x not in allowed for x in v):
            return f"expected a list of values from {allowed}"
        if len(v) < f.min_selected or (f.max_selected and len(v) > f.max_selected):
            return "wrong number of options selected"
        return None
    if isinstance(f, IntegerField):
        if isinstance(v, bool) or not isinstance(v, int):
            return "expected an integer"
        return _range(v, f.min, f.max)
    if isinstance(f, NumberField):
        if isinstance(v, bool) or not isinstance(v, int | float):
            return "expected a number"
        return _range(v, f.min, f.max)
    if isinstance(f, ShortTextField):
        if not isinstance(v, str):
            return "expected text"
        return None if len(v) <= f.max_length else f"longer than {f.max_length} characters"
    if isinstance(f, LongTextField):
        if f.sections:
            if isinstance(v, str):
                return None
            if not isinstance(v, dict) or not all(isinstance(x, str) for x in v.values()):
                return "expected an object section id -> text"
            unknown = set(v) - {s.id for s in f.sections}
            return f"unknown sections {sorted(unknown)}" if unknown else None
        return None if isinstance(v, str) else "expected text"
    if isinstance(f, CodeField):
        if not isinstance(v, dict) or not all(isinstance(x, str) for x in v.values()):
            return "expected an object file name -> source"
        unknown = set(v) - set(f.files)
        return f"unknown files {sorted(unknown)}" if unknown else None
    return "unknown field type"


def _range(v: float, lo: float | None, hi: float | None) -> str | None:
    if lo is not None and v < lo:
        return f"{v} is below the minimum {lo}"
    if hi is not None and v > hi:
        return f"{v} is above the maximum {hi}"
    return None


def whole_number(v: Any, name: str, low: int = 0) -> int:
    """A candidate's whole-number field as an int (2.0 and "2" are 2), for checks that feed a
    model; ValueError naming the field for a fraction, a bool, text or a value below `low`
    (the engine turns it into a failed check with that reason, not a crash)."""
    if isinstance(v, bool):
        raise ValueError(f"{name} must be a whole number")
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a whole number, not {v!r}") from None
    if f != f or f in (float("inf"), float("-inf")) or f != int(f) or f < low:
        raise ValueError(f"{name} must be a whole number >= {low}, not {v!r}")
    return int(f)
