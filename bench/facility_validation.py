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

from graders.hw.facility import get_system, gpus_for_power, rack_kw


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
    ]


def main() -> None:
    print_table(cases())


if __name__ == "__main__":
    main()
