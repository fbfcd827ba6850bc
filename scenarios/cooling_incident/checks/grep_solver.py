"""Shortcut solvers for cooling-incident (hidden): what a candidate gets by grepping the
logs for each cause's signature instead of reading the telemetry.

`solve` greps the event logs in a fixed order (a power brake in the SEL, a pump alarm, the
facility water warning, a power-cap ticket, a GPU over-temperature event) and takes the first
family whose signature is there; every one of them is on every seed (a brake blip while a
PSU lost AC, the standby pump's fault, the afternoon FWS warning, the closed power-cap test,
the hot GPU that does not throttle). `solve_bits` greps the hourly DCGM export for throttle
bits ("THERMAL", "POWER_CAP", "BRAKE") and blames the node with the most throttled hours.
Numbers are echoed: the first GPU's clock and the first/last step times.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Any


def _t(artifacts: dict[str, bytes], path: str) -> str:
    return artifacts[path].decode("utf-8")


def _brake(a: dict[str, bytes]) -> str | None:
    m = re.search(r"^(\S+)\s*\|.*Power Brake \| State Asserted", _t(a, "bmc/sel.log"), re.M)
    return m.group(1) if m else None


def _pump(a: dict[str, bytes]) -> str | None:
    m = re.search(r"(CDU-\d+)-P\d\s+(?:Pump fault|VFD)", _t(a, "facility/bms_alarms.log"))
    return m.group(1).lower() if m else None


def _supply(a: dict[str, bytes]) -> str | None:
    return "all" if "Facility water supply temp high" in _t(a, "facility/bms_alarms.log") \
        else None


def _cap(a: dict[str, bytes]) -> str | None:
    m = re.search(r"power-cap test on (r\d+)|(r\d+): busway", _t(a, "ops/tickets.md"))
    return (m.group(1) or m.group(2)) if m else None


def _hot(a: dict[str, bytes]) -> str | None:
    m = re.search(r"^(\S+)\s*\|.*Upper Non-critical going high", _t(a, "bmc/sel.log"), re.M)
    return m.group(1) if m else None


ORDER: list[tuple[str, Callable[[dict[str, bytes]], str | None]]] = [
    ("psu_power_brake", _brake), ("cdu_pump_degraded", _pump),
    ("facility_supply_temp", _supply), ("rack_power_cap", _cap), ("cold_plate_fault", _hot)]


def _numbers(a: dict[str, bytes]) -> dict[str, Any]:
    now = _t(a, "telemetry/dcgm_now.csv").splitlines()
    first_clock = int(now[2].split(",")[3])
    ms = [float(x) for x in re.findall(r"step_time_ms=([0-9.]+)", _t(a, "train/steps.log"))]
    return {"slowest_clock_mhz": first_clock,
            "step_time_increase_pct": round(ms[-1] / ms[0] * 100 - 100, 1)}


def _answer(family: str, culprit: str, a: dict[str, bytes]) -> dict[str, Any]:
    return {"cause_family": family, "culprit": culprit, **_numbers(a),
            "evidence": f"The logs flag {culprit}: its GPUs show throttle reasons (THERMAL / "
                        "POWER_CAP bits), so they are slow and the step time went up.",
            "mitigation": f"Drain {culprit} and check its cooling.",
            "fix": "Fix the hardware and add alerts."}


def solve(artifacts: dict[str, bytes], skip_first: int = 0) -> dict[str, Any]:
    """The first family in ORDER (after skip_first) whose signature is in the logs."""
    family, culprit = "cold_plate_fault", "all"
    for fam, find in ORDER[skip_first:]:
        hit = find(artifacts)
        if hit is not None:
            family, culprit = fam, hit
            break
    return _answer(family, culprit, artifacts)


def solve_bits(artifacts: dict[str, bytes]) -> dict[str, Any]:
    """Blame the node with the most throttled hours in dcgm_hourly; the family from its bits."""
    hours: Counter[str] = Counter()
    bits: dict[str, int] = {}
    rack: dict[str, str] = {}
    for line in _t(artifacts, "telemetry/dcgm_hourly.csv").splitlines()[2:]:
        f = line.split(",")
        b = int(f[7], 16)
        if b:
            hours[f[1]] += 1
            bits[f[1]] = bits.get(f[1], 0) | b
            rack[f[1]] = f[2]
    if not hours:
        return _answer("cold_plate_fault", "all", artifacts)
    node = hours.most_common(1)[0][0]
    b = bits[node]
    if b & 0x80:
        return _answer("psu_power_brake", node, artifacts)
    if b & 0x4:
        return _answer("rack_power_cap", rack[node], artifacts)
    return _answer("cold_plate_fault", node, artifacts)
