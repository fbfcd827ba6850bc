"""Facility power and cooling of a GPU campus: GPUs per MW, cooling by rack density, phased
energisation, ride-through, power caps under degraded cooling, annual energy.

Every figure is a closed-form consequence of the systems' maximum input power (vendor data
sheets, `SYSTEMS`), the share of IT power outside the GPU systems (network, storage,
management), the design PUE of the cooling in use and the site's electrical blocks. Sources
of the constants: docs/hw.md ("Facility power and cooling"); validation against announced
campuses: bench/facility_validation.py.

Conventions: power in kW unless the name says MW; "facility" power is what the utility
feed delivers (IT x PUE); "IT" power is servers + network + storage + management. Heat
rejected by the cooling plant equals the IT power (all of it becomes heat).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from graders.hw.inputs import HwInput

Cooling = Literal["air", "rear_door", "direct_liquid"]
# From least to most capable: the first one that carries a rack's power is the one needed.
COOLING_ORDER: tuple[Cooling, ...] = ("air", "rear_door", "direct_liquid")
HOURS_PER_YEAR = 8760.0
# Water at 20-40 degC: specific heat 4.18 kJ/(kg K), density ~0.995 t/m3 (engineering tables).
WATER_KJ_PER_KG_K = 4.18
WATER_KG_PER_M3 = 995.0


class System(BaseModel):
    """A GPU system as it is racked and powered: a server, or a rack-scale system."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Product name.")
    gpus: int = Field(gt=0, description="GPUs in one system.")
    max_kw: float = Field(gt=0, description="Maximum input power of one system, kW (data sheet).")
    gpu_tdp_w: float = Field(gt=0, description="Maximum power of one GPU, W (board/module TDP).")
    rack_units: int = Field(gt=0, description="Systems of this kind that fit one rack at most.")
    source: str = Field(description="Where the figures come from.")

    @property
    def gpu_share(self) -> float:
        """Share of the system's maximum power drawn by its GPUs (what a GPU cap acts on)."""
        return self.gpus * self.gpu_tdp_w / 1000.0 / self.max_kw

    @property
    def kw_per_gpu(self) -> float:
        """System input power per GPU at maximum, kW."""
        return self.max_kw / self.gpus


SYSTEMS: dict[str, System] = {
    "dgx_h100": System(
        name="NVIDIA DGX H100", gpus=8, max_kw=10.2, gpu_tdp_w=700, rack_units=4,
        source="NVIDIA DGX H100 User Guide, power specifications: 10.2 kW max (6 x 3.3 kW "
        "PSUs, 4+2); H100 SXM5 700 W TDP (NVIDIA H100 data sheet)"),
    "dgx_b200": System(
        name="NVIDIA DGX B200", gpus=8, max_kw=14.3, gpu_tdp_w=1000, rack_units=4,
        source="NVIDIA DGX B200 User Guide, power specifications: 14.3 kW max (6 x 3.3 kW "
        "PSUs, 5+1); B200 1,000 W in HGX/DGX B200 (NVIDIA Blackwell data sheet)"),
    "gb200_nvl72": System(
        name="NVIDIA GB200 NVL72 (one rack)", gpus=72, max_kw=132.0, gpu_tdp_w=1200,
        rack_units=1,
        source="NVIDIA GB200 NVL72: ~120 kW per rack typical; 132 kW of power-shelf output "
        "(8 x 33 kW shelves at N+N/2, Supermicro/HPE rack specifications) taken as the max; "
        "B200 in GB200 1,200 W"),
}


def get_system(name: str) -> System:
    """A catalog system by key, ValueError listing the known ones."""
    try:
        return SYSTEMS[name]
    except KeyError:
        raise ValueError(f"unknown system {name!r} (known: {sorted(SYSTEMS)})") from None


def rack_kw(system: System, systems_per_rack: int) -> float:
    """Maximum IT power of one compute rack, kW."""
    if not 1 <= systems_per_rack <= system.rack_units:
        raise ValueError(f"{system.name}: 1..{system.rack_units} per rack, not {systems_per_rack}")
    return system.max_kw * systems_per_rack


def required_cooling(rack_power_kw: float, limits_kw: Mapping[str, float]) -> Cooling:
    """The least capable cooling whose per-rack limit carries the rack (air < rear door < DLC)."""
    for kind in COOLING_ORDER:
        if kind in limits_kw and rack_power_kw <= limits_kw[kind]:
            return kind
    raise ValueError(f"no cooling option carries {rack_power_kw:.1f} kW per rack")


def it_kw_per_gpu(system: System, overhead_frac: float, gpu_cap_frac: float = 1.0) -> float:
    """IT power per GPU, kW: the system's share plus network/storage/management overhead.

    The overhead is a fraction of the systems' maximum power and does not follow a GPU cap;
    a cap scales only the GPUs' share of the system (CPUs, fans, NICs, NVSwitches keep theirs).
    """
    if not 0 < gpu_cap_frac <= 1:
        raise ValueError("gpu_cap_frac must be in (0, 1]")
    g = system.gpu_share
    return system.kw_per_gpu * (1 - g * (1 - gpu_cap_frac) + overhead_frac)


def facility_kw_per_gpu(system: System, overhead_frac: float, pue: float) -> float:
    """Utility power per GPU at full load, kW (IT per GPU x PUE)."""
    if pue < 1:
        raise ValueError("PUE is at least 1")
    return it_kw_per_gpu(system, overhead_frac) * pue


def gpus_for_power(facility_mw: float, system: System, systems_per_rack: int,
                   overhead_frac: float, pue: float) -> int:
    """GPUs a facility feed of facility_mw carries at full load, in whole compute racks."""
    per_rack_kw = rack_kw(system, systems_per_rack) * (1 + overhead_frac) * pue
    racks = math.floor(facility_mw * 1000 / per_rack_kw + 1e-9)
    return racks * systems_per_rack * system.gpus


def usable_mw(units: int, unit_mw: float, spares: int = 1) -> float:
    """Firm capacity of `units` transformers (or blocks) of unit_mw with `spares` held in
    reserve (N+1 by default): one unit failing sheds no load."""
    if units <= spares:
        return 0.0
    return (units - spares) * unit_mw


def ride_through_min(energy_mwh: float, load_mw: float) -> float:
    """Minutes a store of usable energy carries a constant load (conversion losses ignored)."""
    if load_mw <= 0:
        raise ValueError("load must be positive")
    return energy_mwh / load_mw * 60.0


def cap_for_it_fraction(system: System, overhead_frac: float, it_fraction: float) -> float:
    """GPU power cap (fraction of TDP) that brings the IT load to it_fraction of full load.

    Solves it_kw_per_gpu(cap) = it_fraction x it_kw_per_gpu(1). Raises ValueError when even
    a GPU at zero power would not get there (the load must then be shed, not capped).
    """
    g = system.gpu_share
    cap = 1 - (1 - it_fraction) * (1 + overhead_frac) / g
    if cap <= 0:
        raise ValueError(f"no GPU cap reaches {it_fraction:.0%} of the IT load: shed racks")
    return min(1.0, cap)


def thermal_buffer_s(heat_mw: float, water_m3: float, allowed_rise_k: float) -> float:
    """Seconds a volume of loop or tank water absorbs heat_mw before warming by allowed_rise_k
    (no heat rejected meanwhile): the cooling plant's restart window it can cover."""
    if heat_mw <= 0 or water_m3 < 0 or allowed_rise_k <= 0:
        raise ValueError("heat and allowed rise must be positive, water non-negative")
    kj = water_m3 * WATER_KG_PER_M3 * WATER_KJ_PER_KG_K * allowed_rise_k
    return kj / (heat_mw * 1000.0)


def annual_energy_mwh(it_peak_mw: float, avg_load_frac: float, pue: float) -> float:
    """Facility energy over a year, MWh: average IT load x PUE x 8,760 h."""
    return it_peak_mw * avg_load_frac * pue * HOURS_PER_YEAR


class FacilityInput(HwInput):
    """A campus at full build: systems, overheads, cooling PUE and the utility feed."""

    model_config = ConfigDict(extra="forbid")

    system: str = Field(description="Key in SYSTEMS (dgx_h100, dgx_b200, gb200_nvl72).")
    systems_per_rack: int = Field(gt=0, description="Systems in one compute rack.")
    overhead_frac: float = Field(ge=0, le=1, description="Network, storage and management "
                                 "IT power as a fraction of the GPU systems' maximum power.")
    pue: float = Field(ge=1, le=3, description="Design PUE of the cooling in use.")
    facility_mw: float = Field(gt=0, description="Firm utility power at full build, MW.")
    avg_load_frac: float = Field(default=0.8, gt=0, le=1, description="Average IT load over a year "
                                 "as a fraction of the maximum.")
    price_usd_per_mwh: float = Field(default=0.0, ge=0, description="Energy price, $/MWh.")


class FacilityResult(BaseModel):
    """What the feed carries and what it costs."""

    rack_kw: float = Field(description="IT power of one compute rack, kW.")
    it_kw_per_gpu: float = Field(description="IT power per GPU incl. overhead, kW.")
    facility_kw_per_gpu: float = Field(description="Utility power per GPU, kW.")
    gpus_per_mw: float = Field(description="GPUs per MW of utility power.")
    gpus: int = Field(description="GPUs at full build, in whole racks.")
    it_mw: float = Field(description="IT load of those GPUs at maximum, MW.")
    annual_mwh: float = Field(description="Facility energy over a year, MWh.")
    annual_cost_usd: float = Field(description="annual_mwh x price.")


def estimate_facility(inp: FacilityInput) -> FacilityResult:
    """GPUs a feed carries at full build and the energy they use in a year."""
    system = get_system(inp.system)
    fac = facility_kw_per_gpu(system, inp.overhead_frac, inp.pue)
    gpus = gpus_for_power(inp.facility_mw, system, inp.systems_per_rack, inp.overhead_frac,
                          inp.pue)
    it_mw = gpus * it_kw_per_gpu(system, inp.overhead_frac) / 1000
    mwh = annual_energy_mwh(it_mw, inp.avg_load_frac, inp.pue)
    return FacilityResult(
        rack_kw=rack_kw(system, inp.systems_per_rack),
        it_kw_per_gpu=it_kw_per_gpu(system, inp.overhead_frac),
        facility_kw_per_gpu=fac, gpus_per_mw=1000 / fac, gpus=gpus, it_mw=it_mw,
        annual_mwh=mwh, annual_cost_usd=mwh * inp.price_usd_per_mwh)


# --- GPU power and thermal throttling under direct liquid cooling --------------------------
# Throttle reasons as DCGM/NVML report them (nvmlClocksEventReasons / DCGM_FI_DEV_CLOCK_
# THROTTLE_REASONS bits, nvml.h).
THROTTLE_BITS: dict[str, int] = {
    "GPU_IDLE": 0x1, "APPLICATIONS_CLOCKS_SETTING": 0x2, "SW_POWER_CAP": 0x4,
    "HW_SLOWDOWN": 0x8, "SYNC_BOOST": 0x10, "SW_THERMAL_SLOWDOWN": 0x20,
    "HW_THERMAL_SLOWDOWN": 0x40, "HW_POWER_BRAKE_SLOWDOWN": 0x80,
}
# ASHRAE TC 9.9 liquid cooling classes (2021 "Water-cooled servers" / Thermal Guidelines for
# Data Processing Environments, 5th ed.): the highest facility water supply of each class, degC.
ASHRAE_W_CLASSES: dict[str, float] = {"W17": 17.0, "W27": 27.0, "W32": 32.0, "W40": 40.0,
                                      "W45": 45.0}


class GpuThermal(BaseModel):
    """Power and thermal behaviour of one liquid-cooled GPU module."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    tdp_w: float = Field(gt=0, description="Default (maximum) power limit, W.")
    min_cap_w: float = Field(gt=0, description="Lowest power limit the driver accepts, W.")
    max_clock_mhz: float = Field(gt=0, description="Maximum boost SM clock, MHz.")
    static_frac: float = Field(gt=0, lt=1, description="Share of full-load power that does not "
                               "scale with the clock (leakage, HBM, uncore), at max clock.")
    load_frac: float = Field(gt=0, le=1, description="Power a dense training step draws at max "
                             "clock, as a fraction of TDP (unconstrained).")
    target_c: float = Field(description="GPU temperature the driver holds by SW thermal "
                            "slowdown (max operating temperature), degC.")
    hw_slowdown_c: float = Field(description="Hardware thermal slowdown trip, degC.")
    r_plate_k_per_w: float = Field(gt=0, description="Die-to-coolant thermal resistance of the "
                                   "cold plate at design flow, K/W.")
    brake_clock_frac: float = Field(gt=0, lt=1, description="SM clock under HW power brake, "
                                    "fraction of max.")
    source: str


THERMAL_GPUS: dict[str, GpuThermal] = {
    "H100-SXM": GpuThermal(
        name="H100 SXM5 80GB", tdp_w=700, min_cap_w=200, max_clock_mhz=1980, static_frac=0.25,
        load_frac=0.95, target_c=87, hw_slowdown_c=92, r_plate_k_per_w=0.055,
        brake_clock_frac=0.35,
        source="NVIDIA H100 data sheet (700 W SXM5, 1,980 MHz max boost); DGX power-limit range "
        "200-700 W (Redfish PowerLimitWatts AllowableMin/Max, DGX user guide); temperatures, "
        "plate resistance, static share and brake clock assumed (docs/hw.md)"),
    "H200-SXM": GpuThermal(
        name="H200 SXM 141GB", tdp_w=700, min_cap_w=200, max_clock_mhz=1980, static_frac=0.27,
        load_frac=0.95, target_c=87, hw_slowdown_c=92, r_plate_k_per_w=0.055,
        brake_clock_frac=0.35,
        source="NVIDIA H200 data sheet (up to 700 W SXM, same GH100 die and clocks as H100); "
        "rest as H100 (assumed)"),
    "B200-GB200": GpuThermal(
        name="B200 in GB200 NVL72", tdp_w=1200, min_cap_w=400, max_clock_mhz=1965,
        static_frac=0.25, load_frac=0.93, target_c=87, hw_slowdown_c=92, r_plate_k_per_w=0.034,
        brake_clock_frac=0.35,
        source="NVIDIA GB200 NVL72 (1,200 W per B200); clocks and the rest assumed (docs/hw.md)"),
}


def get_thermal_gpu(name: str) -> GpuThermal:
    try:
        return THERMAL_GPUS[name]
    except KeyError:
        raise ValueError(f"unknown GPU {name!r} (known: {sorted(THERMAL_GPUS)})") from None


def clock_at_power(gpu: GpuThermal, power_w: float) -> float:
    """SM clock (MHz) at which a dense training step draws power_w.

    Dynamic power ~ C V^2 f with the voltage rising with the clock along the DVFS curve,
    P = P_static + (P_load - P_static) (f / f_max)^3; above the unconstrained draw the GPU runs
    at max clock. Clamped at the driver's minimum clock (a tenth of max, never reached here).
    """
    p_load = gpu.load_frac * gpu.tdp_w
    p_static = gpu.static_frac * p_load
    if power_w >= p_load:
        return gpu.max_clock_mhz
    x = max(0.0, (power_w - p_static) / (p_load - p_static))
    return max(0.1, float(x ** (1 / 3))) * gpu.max_clock_mhz


def coolant_rise_k(heat_kw: float, flow_lpm: float) -> float:
    """Temperature rise of water carrying heat_kw at flow_lpm, K (Q = m c dT)."""
    if flow_lpm <= 0:
        raise ValueError("flow must be positive")
    kg_s = flow_lpm / 60.0 / 1000.0 * WATER_KG_PER_M3
    return heat_kw / (kg_s * WATER_KJ_PER_KG_K)


def coolant_resistance(flow_lpm: float) -> float:
    """K/W from the coolant's own rise through one cold plate: the die sees the mean of the
    plate's inlet and outlet water, inlet + half of coolant_rise_k(P, flow)."""
    return 0.5 * coolant_rise_k(1.0, flow_lpm) / 1000.0


def plate_resistance(gpu: GpuThermal, flow_frac: float, fouling: float = 1.0) -> float:
    """Die-to-coolant resistance at flow_frac of design flow, K/W: the convective part (half
    at design flow, assumed) scales as flow^-0.8 (Dittus-Boelter); fouling multiplies it all."""
    if flow_frac <= 0:
        raise ValueError("flow fraction must be positive")
    r = gpu.r_plate_k_per_w
    return fouling * (0.5 * r + 0.5 * r * float(flow_frac ** -0.8))


class GpuState(BaseModel):
    """What DCGM would report for one GPU in steady state."""

    clock_mhz: float
    power_w: float
    temp_c: float
    reasons: int = Field(description="Throttle reasons bitmask (THROTTLE_BITS).")


def gpu_state(gpu: GpuThermal, coolant_c: float, r_k_per_w: float,
              cap_w: float | None = None, brake: bool = False) -> GpuState:
    """Steady state of a GPU running a dense training step: the lowest of the unconstrained
    draw, the power cap, and the power at which the die sits at the thermal target
    (T = coolant + P x R); HW power brake pins the clock regardless."""
    p_load = gpu.load_frac * gpu.tdp_w
    cap = gpu.tdp_w if cap_w is None else max(gpu.min_cap_w, min(gpu.tdp_w, cap_w))
    p_thermal = (gpu.target_c - coolant_c) / r_k_per_w
    reasons = 0
    if brake:
        f = gpu.brake_clock_frac * gpu.max_clock_mhz
        x = gpu.brake_clock_frac ** 3
        p = p_load * (gpu.static_frac + (1 - gpu.static_frac) * x)
        reasons = THROTTLE_BITS["HW_SLOWDOWN"] | THROTTLE_BITS["HW_POWER_BRAKE_SLOWDOWN"]
        return GpuState(clock_mhz=f, power_w=p, temp_c=coolant_c + p * r_k_per_w,
                        reasons=reasons)
    p = min(p_load, cap, p_thermal)
    if p < p_load:
        reasons |= THROTTLE_BITS["SW_POWER_CAP"] if cap <= p_thermal else \
            THROTTLE_BITS["SW_THERMAL_SLOWDOWN"]
    return GpuState(clock_mhz=clock_at_power(gpu, p), power_w=p,
                    temp_c=coolant_c + p * r_k_per_w, reasons=reasons)


def step_time_ratio(clock_ratio: float, clock_bound_frac: float) -> float:
    """Step time at clock_ratio of the healthy clock over the healthy step time: the SM-clock
    bound part of the step (GEMMs, attention) stretches as 1/clock, the rest (HBM-bound
    kernels, exposed communication, host work) does not. In synchronous data-parallel training
    the slowest rank's ratio is the job's."""
    if not 0 < clock_ratio <= 1.0 + 1e-9 or not 0 <= clock_bound_frac <= 1:
        raise ValueError("clock ratio in (0, 1], bound fraction in [0, 1]")
    return clock_bound_frac / clock_ratio + (1 - clock_bound_frac)


def w_class(supply_c: float) -> str:
    """The lowest ASHRAE W class whose facility water supply limit covers supply_c ("W+" above
    W45)."""
    for name, limit in ASHRAE_W_CLASSES.items():
        if supply_c <= limit:
            return name
    return "W+"
