"""A published figure beside a model's figure: the row type and the table every
`bench/*_validation.py` of a small model prints (case, published, model, signed error, unit;
the mean |error|; then each row's source and what the model assumed where the source is
silent)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    id: str
    source: str  # what was published, and where
    published: float
    unit: str
    predicted: float  # the model's figure
    assumed: str  # what the model assumes where the source is silent

    @property
    def error(self) -> float:
        """Signed relative error of the model (+ = the model says more)."""
        return (self.predicted - self.published) / self.published


def print_table(rows: Sequence[Case]) -> None:
    width = max([24, *(len(c.id) for c in rows)])
    print(f"{'case':<{width}} {'published':>12} {'model':>12} {'error':>8}  unit")
    for c in rows:
        print(f"{c.id:<{width}} {c.published:>12,.2f} {c.predicted:>12,.2f} {c.error:>+8.1%}  "
              f"{c.unit}")
    if rows:
        mean = sum(abs(c.error) for c in rows) / len(rows)
        print(f"mean |error| {mean:.1%} over {len(rows)} cases")
    for c in rows:
        print(f"\n{c.id}: {c.source}\n  assumed: {c.assumed}")
