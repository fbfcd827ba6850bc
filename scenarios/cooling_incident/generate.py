"""Variant data for cooling-incident: a synchronous training run on a liquid-cooled hall got
slower over a day. The candidate gets DCGM per-GPU telemetry (now, and hourly per node over the
day), the CDUs' 5-minute telemetry, the BMS alarm log, rack PDU readings with breaker
ratings, the BMC event logs, the training job's step log and per-rank timings, the ops
tickets and the hall inventory.

Every clock, power and temperature comes from graders.hw.facility's throttle model: a GPU
draws its training load unless a power cap or the thermal target (die = mean coolant + power
x plate resistance, the coolant's rise from the flow) holds it lower, and the clock follows
the power along P = P_static + (P_load - P_static) (f / f_max)^3; a power brake pins the
clock. The job's step time is the slowest rank's (graders.hw.facility.step_time_ratio).

One cause from five families is planted (a CDU pump that lost flow, the facility water
supply temperature, one node's cold plate, one rack's power budget after a lost feed, one
node's power brake). Every family's surface signature also sits somewhere harmless on every
seed: a standby pump fault and a lead/lag pump rotation, the daily FWS warning at the
afternoon peak, a power-cap test window that closed, a tray RMA swap that went fine, a PSU
that lost AC with redundancy intact, a hot GPU that does not throttle, a hot-aisle door left
open on the air-cooled storage row, and a rank that waits on its data loader on both days.
Text formats are in formats.py.
"""

from __future__ import annotations

import math
import random
from types import ModuleType
from typing import Any

from graders.hw.facility import (
    THROTTLE_BITS,
    coolant_resistance,
    get_system,
    get_thermal_gpu,
    gpu_state,
    plate_resistance,
    step_time_ratio,
)
from scenarios.hooks import sibling

FAMILIES = ["cdu_pump_degraded", "facility_supply_temp", "cold_plate_fault",
            "rack_power_cap", "psu_power_brake"]
HOURS = 24  # telemetry from 08:00 yesterday to 08:00 today
PUMP_FAULT_H = 3.3  # the standby pump's trip (11:18 yesterday), a decoy on every seed
CLUSTERS: dict[str, dict[str, Any]] = {
    "4 racks of HGX H100 (16 nodes x 8 GPUs)": dict(
        system="dgx_h100", gpu="H100-SXM", racks=4, nodes=4, gpn=8, rows=2, feeds=2, amps=50,
        unit="n", design_lpm=1.0),
    "12 racks of HGX H200 (48 nodes x 8 GPUs)": dict(
        system="dgx_h100", gpu="H200-SXM", racks=12, nodes=4, gpn=8, rows=3, feeds=2, amps=50,
        unit="n", design_lpm=1.0),
    "2 GB200 NVL72 racks": dict(
        system="gb200_nvl72", gpu="B200-GB200", racks=2, nodes=18, gpn=4, rows=2, feeds=3,
        amps=80, unit="t", design_lpm=1.7),
    "8 GB200 NVL72 racks": dict(
        system="gb200_nvl72", gpu="B200-GB200", racks=8, nodes=18, gpn=4, rows=2, feeds=3,
        amps=80, unit="t", design_lpm=1.7),
    "16 GB200 NVL72 racks": dict(
        system="gb200_nvl72", gpu="B200-GB200", racks=16, nodes=18, gpn=4, rows=4, feeds=3,
        amps=80, unit="t", design_lpm=1.7),
}
VOLTS = 415.0  # three-phase line-to-line
CONTINUOUS = 0.8  # a breaker carries 80 % of its rating continuously (NEC 210.20)


def _formats() -> ModuleType:
    return sibling(__file__, "formats.py")


def feed_kw(amps: float) -> float:
    """Continuous capacity of one three-phase feed, kW."""
    return CONTINUOUS * VOLTS * amps * math.sqrt(3) / 1000.0


class Hall:
    def __init__(self, seed: int, params: dict[str, Any]) -> None:
        r = random.Random(f"cooling-incident:v1:{seed}")
        self.rng = r
        self.cluster = params["cluster"]
        c = CLUSTERS[self.cluster]
        self.c = c
        self.gpu = get_thermal_gpu(c["gpu"])
        self.system = get_system(c["system"])
        self.family = FAMILIES[r.randrange(len(FAMILIES))]
        self.day = r.randint(3, 26)
        self.racks = [f"r{i + 1:02d}" for i in range(c["racks"])]
        per_row = c["racks"] // c["rows"]
        self.cdus = [f"cdu-{i + 1}" for i in range(c["rows"])]
        self.cdu_of = {rk: self.cdus[i // per_row] for i, rk in enumerate(self.racks)}
        self.nodes = [f"{rk}-{c['unit']}{j + 1:02d}" for rk in self.racks
                      for j in range(c["nodes"])]
        self.rack_of = {n: n.split("-")[0] for n in self.nodes}
        self.gpus = [(n, g) for n in self.nodes for g in range(c["gpn"])]
        # Each GPU's cold plate and paste: +-8 % around the design resistance.
        self.r_mult = {k: r.uniform(0.92, 1.08) for k in self.gpus}
        self.onset = r.randint(5, 14)  # hour index: 13:00 .. 22:00 yesterday
        self.bound_frac = r.uniform(0.7, 0.84)  # SM-clock-bound share of a step
        self.step_ms = r.uniform(3200, 6200)
        self.comm_ms = self.step_ms * r.uniform(0.06, 0.1)
        self.fws_base = r.uniform(23.0, 25.0)
        self.approach = r.uniform(2.5, 3.5)
        self.fws_warn = round(self.fws_base + 1.0, 1)
        self.flow_design = {cdu: c["design_lpm"] * self.gpu_count_on(cdu) / 0.9
                            for cdu in self.cdus}
        self.pump_speed = {cdu: r.uniform(68, 78) for cdu in self.cdus}
        # The culprit, then the decoys on other racks/nodes/CDUs.
        self.culprit_cdu = r.choice(self.cdus)
        self.culprit_rack = r.choice(self.racks)
        self.culprit_node = r.choice([n for n in self.nodes
                                      if self.rack_of[n] == self.culprit_rack])
        others = [n for n in self.nodes if n != self.culprit_node]
        self.hot_gpu = (r.choice([n for n in others if self.rack_of[n] != self.culprit_rack]
                                 or others), r.randrange(c["gpn"]))
        self.r_mult[self.hot_gpu] = r.uniform(1.22, 1.3)
        self.rma_node = r.choice([n for n in others if n != self.hot_gpu[0]])
        self.rma_hour = r.choice([h for h in range(2, 20) if abs(h - self.onset) > 2])
        self.psu_decoy = r.choice([n for n in others if n not in (self.hot_gpu[0],
                                                                  self.rma_node)])
        self.loader_rank_host = r.choice(others)
        self.loader_gpu = r.randrange(c["gpn"])
        self.loader_ms = r.uniform(28, 55)
        self.test_rack = r.choice([rk for rk in self.racks if rk != self.culprit_rack]
                                  or self.racks)
        self.test_hour = 18  # 02:00-02:40 today
        self.test_cap = 0.65 * self.gpu.tdp_w
        cdu_others = [x for x in self.cdus if x != self.culprit_cdu]
        self.standby_fault_cdu = r.choice(cdu_others)
        self.rotation_cdu = r.choice(cdu_others)
        self.rotation_hour = r.choice([h for h in range(1, 22) if abs(h - self.onset) > 2])
        # On the CDU whose standby pump trips (hour 3.3) the rotation either came first (the
        # pump that trips is then P1, the lag pump by then) or is skipped (no rotation onto a
        # faulted pump).
        same = self.rotation_cdu == self.standby_fault_cdu
        self.rotation_done = not (same and self.rotation_hour + 0.4 > PUMP_FAULT_H)
        self.faulted_pump = "P1" if same and self.rotation_done else "P2"
        self.pump_fault_h = PUMP_FAULT_H
        self.pump_q = r.uniform(0.3, 0.38)
        self.fws_rise = r.uniform(21.5, 24.0)
        self.fouling = r.uniform(2.1, 2.6)
        self.storage_door_hour = r.randint(3, 20)
        # Rack power: the GPUs at their load plus the rest of the system at 70 % of its share.
        sys = self.system
        systems = (c["nodes"] * c["gpn"]) // sys.gpus
        self.rest_kw = systems * sys.max_kw * (1 - sys.gpu_share) * 0.7
        self.budget_full = c["feeds"] * feed_kw(c["amps"])
        # One feed lost: the rack manager sets the budget to what the remaining feeds carry.
        self.budget_lost = (c["feeds"] - 1) * feed_kw(c["amps"])
        gpus_rack = c["nodes"] * c["gpn"]
        self.cap_lost_w = (self.budget_lost * 0.97 - self.rest_kw) * 1000 / gpus_rack
        self.states = [self._hour(h) for h in range(HOURS + 1)]  # index HOURS = now
        # What DCGM reports now: 15-minute means, the SM clock in its 15 MHz steps.
        self.clock_now = {k: 15 * round(s["clock"] * r.uniform(0.994, 1.0) / 15)
                          for k, s in self.states[HOURS].items()}
        self.step_series = self._steps()
        self.ranks_base = self._ranks(self.states[0])
        self.ranks_now = self._ranks(self.states[HOURS])

    def gpu_count_on(self, cdu: str) -> int:
        c = self.c
        racks = [rk for rk in self.racks if self.cdu_of[rk] == cdu]
        return int(len(racks) * c["nodes"] * c["gpn"])

    # -- the physical state of each hour --------------------------------------------------
    def fws(self, h: float) -> float:
        """Facility water supply, degC, at hour index h (diurnal swing, peak ~15:00)."""
        clock_h = (8 + h) % 24
        t = self.fws_base + 1.3 * math.sin(2 * math.pi * (clock_h - 9) / 24)
        if self.family == "facility_supply_temp" and h > self.onset:
            t += self.fws_rise * min(1.0, (h - self.onset) / 4)
        return t

    def flow_frac(self, cdu: str, h: float) -> float:
        if self.family == "cdu_pump_degraded" and cdu == self.culprit_cdu and h > self.onset:
            return 1.0 - (1.0 - self.pump_q) * min(1.0, (h - self.onset) / 0.5)
        return 1.0

    def cap(self, rack: str, h: int, test: bool = True) -> float | None:
        if self.family == "rack_power_cap" and rack == self.culprit_rack and h > self.onset:
            return float(self.cap_lost_w)
        if test and rack == self.test_rack and h == self.test_hour:
            return self.test_cap
        return None

    def _hour(self, h: int, test: bool = True) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        g = self.gpu
        supply = self.fws(h) + self.approach
        for node, i in self.gpus:
            rack = self.rack_of[node]
            q = self.flow_frac(self.cdu_of[rack], h)
            foul = self.fouling if (self.family == "cold_plate_fault"
                                    and node == self.culprit_node and h > self.onset) else 1.0
            res = plate_resistance(g, q, foul) * self.r_mult[(node, i)] + \
                coolant_resistance(self.c["design_lpm"] * q)
            brake = self.family == "psu_power_brake" and node == self.culprit_node \
                and h > self.onset
            st = gpu_state(g, supply, res, cap_w=self.cap(rack, h, test), brake=brake)
            reasons = st.reasons
            if foul > 1 and st.temp_c >= g.target_c - 0.5:
                reasons |= THROTTLE_BITS["HW_SLOWDOWN"] | THROTTLE_BITS["HW_THERMAL_SLOWDOWN"]
            out[(node, i)] = dict(clock=st.clock_mhz, power=st.power_w, temp=st.temp_c,
                                  reasons=reasons, supply=supply)
        return out

    def slowest_ratio(self, state: dict[Any, Any]) -> float:
        return float(min(s["clock"] for s in state.values()) / self.gpu.max_clock_mhz)

    def _steps(self) -> list[tuple[float, float]]:
        """(hour index, step time ms) every ten minutes: the slowest rank sets the pace; the
        data-loader rank's wait is on the critical path on healthy hours."""
        r = self.rng
        out = []
        after_test = self._hour(self.test_hour, test=False)  # limits restored at :40
        for k in range(HOURS * 6):
            h = k / 6
            st = self.states[min(HOURS, int(h))] if not (
                int(h) == self.test_hour and (h - int(h)) * 60 >= 40) else after_test
            ratio = step_time_ratio(self.slowest_ratio(st), self.bound_frac)
            compute = (self.step_ms - self.comm_ms) * ratio
            base = (self.step_ms - self.comm_ms) + self.loader_ms
            out.append((h, max(compute, base) + self.comm_ms + r.gauss(0, 0.004 * self.step_ms)))
        return out

    def _ranks(self, state: dict[Any, Any]) -> list[dict[str, Any]]:
        r = self.rng
        rows: list[dict[str, Any]] = []
        comp_base = self.step_ms - self.comm_ms
        for rank, (node, i) in enumerate(self.gpus):
            s = state[(node, i)]
            ratio = step_time_ratio(s["clock"] / self.gpu.max_clock_mhz, self.bound_frac)
            loader = self.loader_ms if (node == self.loader_rank_host and
                                        i == self.loader_gpu) else r.uniform(0.8, 2.6)
            rows.append(dict(rank=rank, host=node, local_rank=i,
                             compute=comp_base * ratio * r.uniform(0.997, 1.006),
                             loader=loader))
        step = max(q["compute"] + q["loader"] for q in rows) + self.comm_ms
        for q in rows:
            q["step"] = step * r.uniform(0.9995, 1.0005)
            q["wait"] = q["step"] - q["compute"] - q["loader"]
        return rows

    # -- the answers -------------------------------------------------------------------
    def culprit(self) -> str:
        return {"cdu_pump_degraded": self.culprit_cdu, "facility_supply_temp": "all",
                "cold_plate_fault": self.culprit_node, "rack_power_cap": self.culprit_rack,
                "psu_power_brake": self.culprit_node}[self.family]

    def affected_racks(self) -> list[str]:
        if self.family == "cdu_pump_degraded":
            return [rk for rk in self.racks if self.cdu_of[rk] == self.culprit_cdu]
        if self.family == "facility_supply_temp":
            return list(self.racks)
        return [self.culprit_rack]

    def step_increase_pct(self) -> float:
        """Mean step time of the log's last hour over its first hour, minus 1, in percent."""
        first = [round(ms, 1) for h, ms in self.step_series if h < 1]  # as the log prints
        last = [round(ms, 1) for h, ms in self.step_series if h >= HOURS - 1]
        return round((sum(last) / len(last)) / (sum(first) / len(first)) * 100 - 100, 1)


def generate(seed: int, params: dict[str, Any]) -> dict[str, Any]:
    hall = Hall(seed, params)
    f = _formats()
    artifacts = {path: text.encode("utf-8") for path, text in f.render_all(hall).items()}
    slowest = min(hall.clock_now.values())
    c = hall.c
    return {
        "params": {
            "num_gpus": c["racks"] * c["nodes"] * c["gpn"],
            "gpu_model": hall.gpu.name,
            "cause_family": hall.family,
            "culprit": hall.culprit(),
            "affected_racks": hall.affected_racks(),
            "culprit_cdu": hall.cdu_of[hall.culprit_rack] if hall.family != "cdu_pump_degraded"
            else hall.culprit_cdu,
            "slowest_clock_mhz": slowest,
            "step_time_increase_pct": hall.step_increase_pct(),
            "decoy_nodes": sorted({hall.hot_gpu[0], hall.rma_node, hall.psu_decoy,
                                   hall.loader_rank_host} - {hall.culprit_node}),
            "test_rack": hall.test_rack,
            "decoy_ids": ["hot-gpu-not-throttling", "fws-diurnal-warning",
                             "power-cap-test-window", "standby-pump-fault",
                             "pump-lead-lag-rotation", "tray-rma-swap", "psu-ac-lost-redundant",
                             "storage-hot-aisle-door", "data-loader-rank"],
        },
        "artifacts": artifacts,
    }
