"""Published interruption figures and reference values vs graders.hw.reliability.

Run: .venv/bin/python bench/reliability_validation.py
Each row states what was published (and where) or the reference it is checked against, what
the model assumes where the source is silent, the model's figure and the error.
"""

from __future__ import annotations

from published import Case, print_table

from graders.hw.checkpoint import daly_interval
from graders.hw.reliability import (
    LLAMA3_DAYS,
    LLAMA3_GPUS,
    LLAMA3_UNEXPECTED,
    job_mtbf_h,
    lost_fraction,
    poisson_sf,
    spares_needed,
)


def cases() -> list[Case]:
    m = job_mtbf_h(LLAMA3_UNEXPECTED, LLAMA3_DAYS, LLAMA3_GPUS, LLAMA3_GPUS)
    per_gpu_years = job_mtbf_h(LLAMA3_UNEXPECTED, LLAMA3_DAYS, LLAMA3_GPUS, 1) / 8766
    out = [
        Case("llama3-job-mtbf", "Llama 3 (Dubey et al. 2024, 3.3.4): 419 unexpected "
             "interruptions in 54 days on 16,384 H100 -> one every 3.09 h", 3.09, "h", m,
             "failures spread evenly over the GPUs"),
        Case("llama3-per-gpu-mtbf", "same, per GPU (incl. its share of host and network): "
             "~5.8 years", 5.8, "years", per_gpu_years, "as above"),
    ]
    # Llama 3 reports > 90% effective training time; the model, with Meta's MTBF and an
    # assumed 5-min restart (detect + relaunch + load) and 30-s checkpoint stall at the
    # Daly interval, gives the effective share it implies.
    tau = daly_interval(30.0, m * 3600)
    eff = 100 * (1 - lost_fraction(tau, 30.0, 60.0, 240.0, m * 3600))
    out.append(Case("llama3-effective-time", "Llama 3: higher than 90% effective training "
                    "time over the snapshot", 90.0, "% (lower bound)", eff,
                    "restart 5 min (1 min detection + 4 min relaunch/load), 30-s stall, Daly "
                    "interval"))
    return out


def poisson_rows() -> list[tuple[float, int, float, float]]:
    """poisson_sf against scipy.stats.poisson.sf (exact reference), where scipy is present."""
    try:
        from scipy.stats import poisson  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - optional reference
        return []
    rows = []
    for mean in (0.5, 3.0, 12.1, 40.0, 120.0):
        k = spares_needed(mean, 0.005)
        rows.append((mean, k, poisson_sf(k, mean), float(poisson.sf(k, mean))))
    return rows


def main() -> None:
    print_table(cases())
    rows = poisson_rows()
    if rows:
        print("\nspares for P(more out than spares) <= 0.5%: model vs scipy.stats.poisson.sf")
        for mean, k, ours, ref in rows:
            print(f"  mean {mean:6.1f}: S = {k:4d}  P(X > S) model {ours:.6f} scipy {ref:.6f}")


if __name__ == "__main__":
    main()
