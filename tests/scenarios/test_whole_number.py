"""scenarios.answers.whole_number: the candidate's whole-number fields that feed a model (TP,
replicas, spares, switch ports) accept 2, 2.0 and "2" and refuse, naming the field, anything a
model could not take."""

from __future__ import annotations

import math

import pytest

from scenarios.answers import whole_number


@pytest.mark.parametrize("value", [2, 2.0, "2", " 2 "])
def test_whole_values_in_any_spelling(value: object) -> None:
    assert whole_number(value, "tp", 1) == 2


@pytest.mark.parametrize("value", [True, 2.5, "two", None, math.nan, math.inf, -1, 0])
def test_what_no_model_takes_is_refused_with_the_field_named(value: object) -> None:
    with pytest.raises(ValueError, match="^tp must be a whole number"):
        whole_number(value, "tp", 1)
