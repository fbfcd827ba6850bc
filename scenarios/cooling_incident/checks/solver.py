"""Reference solver for cooling-incident (hidden): finds the planted cause from the artifacts
alone, the way a good on-call engineer would.

Start from what the GPUs say now (dcgm_now.csv): which ones run below the maximum clock and
with which throttle reasons. Then ask the facility where it is the plant: a CDU whose loop
flow fell against the start of the day is a pump problem (every rack on it); a facility
water supply far above the start of the day is the chiller plant (the whole hall). Else the
GPUs' own reasons decide: the power brake on one node, the power cap on one rack, thermal
slowdown on one node while its neighbours are fine. Transient bits of the day (the closed
power-cap test, a brake blip, air after a swap) are not in the 15-minute window of now.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from typing import Any


def rows(artifacts: dict[str, bytes], path: str) -> list[dict[str, str]]:
    text = artifacts[path].decode("utf-8")
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    return list(csv.DictReader(io.StringIO("\n".join(lines))))


def max_clock(artifacts: dict[str, bytes]) -> float:
    m = re.search(r"gpu_max_sm_clock_mhz: (\d+)", artifacts["inventory/hall.yaml"].decode())
    return float(m.group(1)) if m else 0.0


def step_increase(artifacts: dict[str, bytes]) -> float:
    """Mean step time of the log's last hour over its first (six lines each, ten minutes
    apart), minus 1, in percent."""
    ms = [float(x) for x in re.findall(r"step_time_ms=([0-9.]+)",
                                       artifacts["train/steps.log"].decode())]
    first, last = ms[:6], ms[-6:]
    return round((sum(last) / len(last)) / (sum(first) / len(first)) * 100 - 100, 1)


def cdu_change(artifacts: dict[str, bytes]) -> tuple[dict[str, float], float]:
    """Per CDU: loop flow of the last hour over the first hour; FWS rise of the last hour
    over the first hour (hall-wide mean), K."""
    data = rows(artifacts, "facility/cdu_5min.csv")
    by: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in data:
        by[r["cdu"]].append(r)
    flow = {}
    fws_first, fws_last = [], []
    for cdu, rs in by.items():
        first, last = rs[:12], rs[-12:]
        flow[cdu] = sum(float(r["tcs_flow_lpm"]) for r in last) / \
            sum(float(r["tcs_flow_lpm"]) for r in first)
        fws_first += [float(r["fws_c"]) for r in first]
        fws_last += [float(r["fws_c"]) for r in last]
    rise = sum(fws_last) / len(fws_last) - sum(fws_first) / len(fws_first)
    return flow, rise


def solve(artifacts: dict[str, bytes]) -> dict[str, Any]:
    now = rows(artifacts, "telemetry/dcgm_now.csv")
    out: dict[str, Any] = {
        "slowest_clock_mhz": min(int(r["DCGM_FI_DEV_SM_CLOCK"]) for r in now),
        "step_time_increase_pct": step_increase(artifacts),
    }

    def ans(family: str, culprit: str) -> dict[str, Any]:
        return {"cause_family": family, "culprit": culprit, **out}

    flow, rise = cdu_change(artifacts)
    low = [c for c, q in flow.items() if q < 0.7]
    if len(low) == 1:
        return ans("cdu_pump_degraded", low[0])
    if rise > 10:
        return ans("facility_supply_temp", "all")
    bits = [(r, int(r["DCGM_FI_DEV_CLOCK_THROTTLE_REASONS"])) for r in now]
    brake = {r["Hostname"] for r, b in bits if b & 0x80}
    if len(brake) == 1:
        return ans("psu_power_brake", brake.pop())
    capped = {r["rack"] for r, b in bits if b & 0x4}
    if len(capped) == 1:
        return ans("rack_power_cap", capped.pop())
    hot = {r["Hostname"] for r, b in bits if b & 0x60}
    if len(hot) == 1:
        return ans("cold_plate_fault", hot.pop())
    return out
