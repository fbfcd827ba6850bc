import pytest
from pydantic import ValidationError

from graders.hw import CheckpointInput, estimate_checkpoint
from graders.hw.checkpoint import daly_interval, goodput

MIN = 60.0


@pytest.mark.parametrize(
    ("mtbf_min", "daly_min", "young_min"),
    [(24 * 60, 116.7, 120.0), (6 * 60, 56.7, 60.0), (15, 9.14, 12.2)],
)
def test_daly_2006_published_examples(mtbf_min: float, daly_min: float,
                                      young_min: float) -> None:
    r = estimate_checkpoint(CheckpointInput(mtbf_s=mtbf_min * MIN, checkpoint_s=5 * MIN,
                                            restart_s=10 * MIN))
    assert r.daly_interval_s / MIN == pytest.approx(daly_min, rel=0.01)
    assert r.young_interval_s / MIN == pytest.approx(young_min, rel=0.01)


def test_daly_caps_at_mtbf_when_checkpoint_is_slow() -> None:
    assert daly_interval(delta=100, mtbf=40) == 40


def test_goodput_is_best_near_daly_interval() -> None:
    d, r, m = 300.0, 600.0, 6 * 3600.0
    best = goodput(daly_interval(d, m), d, r, m)
    assert best > goodput(daly_interval(d, m) / 3, d, r, m)
    assert best > goodput(daly_interval(d, m) * 3, d, r, m)
    assert 0 < best < 1


def test_llama3_failure_rate_from_per_gpu_mtbf() -> None:
    # 419 unexpected interruptions in 54 days on 16,384 GPUs: job MTBF ~ 3.09 h.
    job_mtbf_h = 54 * 24 / 419
    r = estimate_checkpoint(CheckpointInput(num_gpus=16384, gpu_mtbf_hours=job_mtbf_h * 16384,
                                            checkpoint_s=60, restart_s=600))
    assert r.mtbf_s / 3600 == pytest.approx(3.09, rel=0.01)
    assert job_mtbf_h * 16384 / 24 / 365 == pytest.approx(5.8, rel=0.01)
    assert r.failures_per_day == pytest.approx(419 / 54, rel=0.01)


def test_goodput_at_given_interval() -> None:
    r = estimate_checkpoint(CheckpointInput(mtbf_s=3600 * 10, checkpoint_s=60, restart_s=300,
                                            interval_s=3600))
    assert r.goodput_at_interval is not None
    assert r.goodput_at_interval < r.expected_goodput + 1e-12


def test_rate_must_be_given_once() -> None:
    with pytest.raises(ValidationError, match="mtbf_s"):
        CheckpointInput(checkpoint_s=1)
    with pytest.raises(ValidationError, match="not both"):
        CheckpointInput(mtbf_s=1, num_gpus=2, gpu_mtbf_hours=3, checkpoint_s=1)


def test_checkpoint_time_from_size_and_bandwidth() -> None:
    # Megatron 1T: 13.8 TB saved at 273 GB/s -> ~50 s.
    r = estimate_checkpoint(CheckpointInput(mtbf_s=3600 * 3, checkpoint_bytes=13.8e12,
                                            write_gbps=273))
    assert r.checkpoint_s == pytest.approx(50.5, rel=0.01)
    with pytest.raises(ValidationError, match="checkpoint_bytes"):
        CheckpointInput(mtbf_s=10, checkpoint_bytes=1e9)
    with pytest.raises(ValidationError, match="checkpoint_s"):
        CheckpointInput(mtbf_s=10, checkpoint_s=1, checkpoint_bytes=1e9, write_gbps=1)


def test_goodput_is_zero_when_intervals_dwarf_the_mtbf() -> None:
    assert goodput(interval=1e7, delta=60, restart=0, mtbf=60) == 0.0
    assert goodput(interval=60, delta=1, restart=0, mtbf=1e9) == pytest.approx(60 / 61, rel=1e-3)
