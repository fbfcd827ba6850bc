import math

import pytest

from sandbox.limits import BOUNDS, LimitError, SandboxLimits


def test_defaults_are_valid_and_memory_includes_swap_semantics() -> None:
    limits = SandboxLimits()
    assert limits.memory_mib == 512
    assert limits.pids >= 8


@pytest.mark.parametrize(
    ("field", "value"),
    [("memory_mib", 10**9), ("pids", 10**7), ("wall_s", 10**9), ("cpus", 1000.0),
     ("output_bytes", 2**40), ("tmpfs_mib", 10**7), ("open_files", 10**8),
     ("memory_mib", 0), ("wall_s", -1), ("pids", 0), ("cpus", math.nan)],
)
def test_absurd_limits_are_rejected_with_the_field_named(field: str, value: float) -> None:
    with pytest.raises(LimitError, match=field):
        SandboxLimits(**{field: value})  # type: ignore[arg-type]


def test_non_numbers_are_rejected() -> None:
    with pytest.raises(LimitError):
        SandboxLimits(memory_mib="lots")  # type: ignore[arg-type]
    with pytest.raises(LimitError):
        SandboxLimits(pids=True)


def test_clamped_moves_values_to_the_bounds() -> None:
    limits = SandboxLimits.clamped(memory_mib=10**12, wall_s=-5, pids=100)
    assert limits.memory_mib == BOUNDS["memory_mib"][1]
    assert limits.wall_s == BOUNDS["wall_s"][0]
    assert limits.pids == 100


def test_clamped_rejects_unknown_names() -> None:
    with pytest.raises(LimitError, match="unknown"):
        SandboxLimits.clamped(gpus=8)


def test_replace_validates_again() -> None:
    with pytest.raises(LimitError):
        SandboxLimits().replace(memory_mib=10**9)
