"""graders/hw/costing.py: the parts compose the training, checkpoint and facility models."""

from __future__ import annotations

import pytest

from graders.hw.checkpoint import daly_interval, goodput
from graders.hw.costing import energy_mwh, gpus_to_finish, job_goodput, job_mtbf_s, pilot_mfu


def test_pilot_mfu_is_the_best_plan_in_6n_counting() -> None:
    h100, params = pilot_mfu("llama3-70b", "H100-SXM-80GB")
    h200, _ = pilot_mfu("llama3-70b", "H200-SXM-141GB")
    assert params == pytest.approx(70.55e9, rel=1e-3)
    assert 0.3 < h100 < h200 < 0.7  # same peak, more HBM: fewer model-parallel ranks


def test_job_mtbf_adds_the_spot_rate() -> None:
    assert job_mtbf_s(500, 50_000) == pytest.approx(100 * 3600)
    assert job_mtbf_s(500, 50_000, 50_000) == pytest.approx(50 * 3600)
    with pytest.raises(ValueError):
        job_mtbf_s(0, 50_000)


def test_job_goodput_is_daly_at_the_job_mtbf() -> None:
    m = job_mtbf_s(1024, 30_000)
    assert job_goodput(1024, 30_000, 60, 600) == pytest.approx(
        goodput(daly_interval(60, m), 60, 600, m))


def test_gpus_to_finish_counts_goodput_and_whole_nodes() -> None:
    work, flops = 1e24, 500e12
    n = gpus_to_finish(work, flops, 1000, 8, 50_000, 60, 600)
    assert n is not None and n % 8 == 0
    ideal = work / (flops * 1000 * 3600)
    assert ideal < n < ideal * 1.05 + 8
    assert gpus_to_finish(work, flops, 500, 8, 50_000, 60, 600) > n  # type: ignore[operator]
    assert gpus_to_finish(work, flops, 0, 8, 50_000, 60, 600) is None
    # reclaims every 72 node-hours with 45-minute waits: no count finishes
    assert gpus_to_finish(work, flops, 1000, 8, 50_000, 60, 2700, 72 * 8) is None


def test_energy_is_gpus_kw_hours() -> None:
    assert energy_mwh(1000, 100, 2.5) == pytest.approx(250.0)
