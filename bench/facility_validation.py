"""Published campus and rack figures vs graders.hw.facility, with the error of each.

Run: .venv/bin/python bench/facility_validation.py
Each case states what was published (and where), what the model assumes where the source is
silent (overhead share, PUE), and compares the model's figure with the published one. The
announced campuses publish a GPU count and a power figure, rarely how the power is split, so
the overhead and PUE assumed are the ones the sources describe (liquid-cooled halls) or the
middle of the scenario's ranges; the error says how far the all-in rule lands from them.
"""

from __future__ import annotations

from published import Case, print_table

from graders.hw.facility import (
    ASHRAE_W_CLASSES,
    clock_at_power,
    coolant_resistance,
    get_system,
    get_thermal_gpu,
    gpu_state,
    gpus_for_power,
    plate_resistance,
    rack_kw,
    step_time_ratio,
)


def cases() -> list[Case]:
    h100 = get_system("dgx_h100")
    nvl = get_system("gb200_nvl72")
    return [
        Case("xai-colossus-phase1",
             "xAI Colossus, Memphis (2024): ~100,000 H100 on ~150 MW of grid power "
             "(TVA/MLGW substation; press reports, e.g. techjuice.pk 2025, toolstac.com)",
             100_000, "GPUs",
             gpus_for_power(150, h100, 4, 0.10, 1.20),
             "HGX H100 at the DGX H100 data-sheet 10.2 kW per 8 GPUs, 4 per rack, "
             "Supermicro liquid-cooled racks: overhead 10 %, PUE 1.20"),
        Case("stargate-abilene",
             "Stargate Abilene (Crusoe/Oracle/OpenAI): 1.2 GW campus for ~400,000 GB200 "
             "GPUs (Oracle's reported purchase; eulerpool/FT 2025)",
             400_000, "GPUs",
             gpus_for_power(1200, nvl, 1, 0.12, 1.15),
             "GB200 NVL72 at 132 kW per rack, overhead 12 %, direct liquid PUE 1.15"),
        Case("stargate-abilene-450k",
             "Same campus, later reports: 'over 450,000 GB200' (energynewsbeat 2025, zoonop)",
             450_000, "GPUs",
             gpus_for_power(1200, nvl, 1, 0.12, 1.15),
             "as above"),
        Case("gb200-nvl72-rack",
             "NVIDIA GB200 NVL72: ~120 kW per rack (NVIDIA; introl.com, leviathansystems.co)",
             120.0, "kW",
             rack_kw(nvl, 1),
             "the model plans at the 132 kW of power-shelf output (maximum), not typical"),
        *thermal_cases(),
    ]


def thermal_cases() -> list[Case]:
    """The GPU power/thermal throttle model (cooling-incident) against published figures."""
    h100 = get_thermal_gpu("H100-SXM")
    b200 = get_thermal_gpu("B200-GB200")
    design = gpu_state(h100, 30.0, plate_resistance(h100, 1.0) + coolant_resistance(1.0))
    capped = clock_at_power(h100, 600) / h100.max_clock_mhz
    return [
        Case("h100-sxm-tdp", "NVIDIA H100 SXM5 data sheet: max TDP 700 W", 700, "W",
             h100.tdp_w, "catalog constant"),
        Case("h100-min-power-limit", "DGX user guide, Redfish PowerLimitWatts: AllowableMin "
             "200 W, AllowableMax 700 W", 200, "W", h100.min_cap_w, "catalog constant"),
        Case("b200-gb200-tdp", "NVIDIA GB200 NVL72: 1,200 W per B200", 1200, "W", b200.tdp_w,
             "catalog constant"),
        Case("ashrae-w32-supply", "ASHRAE TC 9.9 liquid classes: W32 facility water supply "
             "up to 32 C", 32, "C", ASHRAE_W_CLASSES["W32"], "catalog constant"),
        Case("h100-dlc-temperature",
             "direct liquid cooling holds GPUs at 50-70 C (ai-infrastructure.net, GPU power, "
             "clocks and thermal tuning; CDU 150-200 L/min); middle of the range", 60, "C",
             design.temp_c,
             "H100 at 95 % of TDP, loop supply 30 C (27 C FWS + 3 K approach), design flow "
             "1 L/min per GPU, plate 0.055 K/W"),
        Case("h100-cap-600w-step",
             "capping an H100 at 600 W typically loses 10-15 % step throughput on transformer "
             "pre-training (factryze.ai scale atlas, power capping); middle of the range",
             12.5, "% step time", (step_time_ratio(capped, 0.77) - 1) * 100,
             "P = P_static + (P_load - P_static) (f/f_max)^3, P_static 25 %, load 665 W at "
             "max clock, 77 % of the step clock-bound"),
    ]


def main() -> None:
    print_table(cases())


if __name__ == "__main__":
    main()
