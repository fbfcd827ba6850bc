"""Checkpoint interval and goodput under failures (Young 1974, Daly 2006)."""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field, model_validator

from graders.hw.inputs import HwInput


class CheckpointInput(HwInput):
    """Failure rate and checkpoint/restart costs of a job."""

    model_config = ConfigDict(extra="forbid")

    mtbf_s: float | None = Field(
        default=None, gt=0, description="Mean time between failures of the whole job, s."
    )
    num_gpus: int | None = Field(
        default=None, gt=0, description="GPUs in the job (with gpu_mtbf_hours, instead of mtbf_s)."
    )
    gpu_mtbf_hours: float | None = Field(
        default=None, gt=0, description="MTBF of one GPU (incl. its share of the host), hours."
    )
    checkpoint_s: float | None = Field(
        default=None, gt=0, description="Time to write one checkpoint (delta), s."
    )
    checkpoint_bytes: float | None = Field(
        default=None, gt=0, description="Checkpoint size in bytes (with write_gbps, instead "
        "of checkpoint_s)."
    )
    write_gbps: float | None = Field(
        default=None, gt=0, description="Sustained storage write bandwidth for the job, GB/s."
    )
    restart_s: float = Field(
        default=0.0, ge=0, description="Time to restart and reload after a failure (R), s."
    )
    interval_s: float | None = Field(
        default=None, gt=0, description="A checkpoint interval to evaluate, s (optional)."
    )

    @model_validator(mode="after")
    def _one_rate(self) -> CheckpointInput:
        has_pair = self.num_gpus is not None and self.gpu_mtbf_hours is not None
        if self.mtbf_s is None and not has_pair:
            raise ValueError("give mtbf_s, or num_gpus together with gpu_mtbf_hours")
        if self.mtbf_s is not None and (self.num_gpus is not None or
                                        self.gpu_mtbf_hours is not None):
            raise ValueError("give mtbf_s or num_gpus+gpu_mtbf_hours, not both")
        by_size = self.checkpoint_bytes is not None and self.write_gbps is not None
        if (self.checkpoint_s is None) == (not by_size):
            raise ValueError("give checkpoint_s, or checkpoint_bytes together with write_gbps")
        return self

    def delta_s(self) -> float:
        if self.checkpoint_s is not None:
            return self.checkpoint_s
        assert self.checkpoint_bytes is not None and self.write_gbps is not None
        return self.checkpoint_bytes / (self.write_gbps * 1e9)

    def job_mtbf_s(self) -> float:
        if self.mtbf_s is not None:
            return self.mtbf_s
        assert self.num_gpus is not None and self.gpu_mtbf_hours is not None
        return self.gpu_mtbf_hours * 3600.0 / self.num_gpus


class CheckpointResult(BaseModel):
    """Optimal intervals and the useful fraction of wall time."""

    mtbf_s: float = Field(description="Job MTBF used, s.")
    young_interval_s: float = Field(description="sqrt(2 delta M) (Young 1974).")
    daly_interval_s: float = Field(description="Daly 2006 higher-order optimum.")
    expected_goodput: float = Field(description="Useful work / wall time at the Daly interval.")
    interval_s: float | None = Field(description="The evaluated interval, when given.")
    goodput_at_interval: float | None = Field(description="Goodput at interval_s, when given.")
    failures_per_day: float = Field(description="86400 / MTBF.")
    checkpoint_s: float = Field(description="Checkpoint write time used (delta), s.")


def young_interval(delta: float, mtbf: float) -> float:
    """Young 1974: tau = sqrt(2 delta M)."""
    return math.sqrt(2.0 * delta * mtbf)


def daly_interval(delta: float, mtbf: float) -> float:
    """Daly 2006: sqrt(2dM)[1 + sqrt(d/2M)/3 + (d/2M)/9] - d for d < 2M, else M."""
    if delta >= 2.0 * mtbf:
        return mtbf
    x = delta / (2.0 * mtbf)
    return math.sqrt(2.0 * delta * mtbf) * (1.0 + math.sqrt(x) / 3.0 + x / 9.0) - delta


def goodput(interval: float, delta: float, restart: float, mtbf: float) -> float:
    """Useful fraction of wall time with exponential failures (Daly 2006 complete model).

    Wall time per unit of work: M e^{R/M} (e^{(tau+delta)/M} - 1) / tau.
    """
    m = mtbf
    if (restart + interval + delta) / m > 700.0:
        return 0.0  # the job essentially never completes an interval (exp would overflow)
    wall_per_work = m * math.exp(restart / m) * math.expm1((interval + delta) / m) / interval
    return 1.0 / wall_per_work


def estimate_checkpoint(inp: CheckpointInput) -> CheckpointResult:
    """Young and Daly intervals and goodput for a job."""
    m = inp.job_mtbf_s()
    d, r = inp.delta_s(), inp.restart_s
    daly = daly_interval(d, m)
    return CheckpointResult(
        mtbf_s=m,
        young_interval_s=young_interval(d, m),
        daly_interval_s=daly,
        expected_goodput=goodput(daly, d, r, m),
        interval_s=inp.interval_s,
        goodput_at_interval=goodput(inp.interval_s, d, r, m) if inp.interval_s else None,
        failures_per_day=86400.0 / m,
        checkpoint_s=d,
    )
