"""graders.hw.facility: data-sheet powers, the cooling threshold, N+1 firm power, ride-through
and the GPU cap that only scales the GPUs' share of the load."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from graders.hw.facility import (
    SYSTEMS,
    FacilityInput,
    annual_energy_mwh,
    cap_for_it_fraction,
    estimate_facility,
    facility_kw_per_gpu,
    get_system,
    gpus_for_power,
    it_kw_per_gpu,
    rack_kw,
    required_cooling,
    ride_through_min,
    thermal_buffer_s,
    usable_mw,
)

LIMITS = {"air": 30.0, "rear_door": 60.0, "direct_liquid": 140.0}


def test_data_sheet_powers_and_gpu_shares() -> None:
    h100 = get_system("dgx_h100")
    assert h100.max_kw == 10.2 and h100.kw_per_gpu == pytest.approx(1.275)
    assert h100.gpu_share == pytest.approx(5.6 / 10.2)
    assert get_system("dgx_b200").max_kw == 14.3
    nvl = get_system("gb200_nvl72")
    assert nvl.gpus == 72 and nvl.rack_units == 1
    assert 0.5 < nvl.gpu_share < 0.7
    with pytest.raises(ValueError, match="unknown system"):
        get_system("dgx_z900")
    assert all(s.source for s in SYSTEMS.values())


def test_cooling_is_the_least_capable_option_that_carries_the_rack() -> None:
    h100 = get_system("dgx_h100")
    assert required_cooling(rack_kw(h100, 2), LIMITS) == "air"  # 20.4 kW
    assert required_cooling(rack_kw(h100, 3), LIMITS) == "rear_door"  # 30.6 kW: just past air
    assert required_cooling(rack_kw(get_system("gb200_nvl72"), 1), LIMITS) == "direct_liquid"
    with pytest.raises(ValueError, match="no cooling"):
        required_cooling(200.0, LIMITS)
    with pytest.raises(ValueError, match="per rack"):
        rack_kw(h100, 5)


def test_per_gpu_power_counts_overhead_and_pue() -> None:
    h100 = get_system("dgx_h100")
    assert it_kw_per_gpu(h100, 0.1) == pytest.approx(1.275 * 1.1)
    assert facility_kw_per_gpu(h100, 0.1, 1.2) == pytest.approx(1.275 * 1.1 * 1.2)
    with pytest.raises(ValueError, match="PUE"):
        facility_kw_per_gpu(h100, 0.1, 0.9)


def test_gpus_come_in_whole_racks_within_the_feed() -> None:
    nvl = get_system("gb200_nvl72")
    gpus = gpus_for_power(50, nvl, 1, 0.1, 1.15)
    assert gpus % 72 == 0
    assert gpus * facility_kw_per_gpu(nvl, 0.1, 1.15) <= 50_000
    assert (gpus + 72) * facility_kw_per_gpu(nvl, 0.1, 1.15) > 50_000


def test_n_plus_1_holds_one_unit_back() -> None:
    assert usable_mw(3, 25) == 50
    assert usable_mw(1, 25) == 0
    assert usable_mw(6, 20, spares=2) == 80


def test_gpu_cap_scales_only_the_gpu_share() -> None:
    h100 = get_system("dgx_h100")
    full = it_kw_per_gpu(h100, 0.12)
    half = it_kw_per_gpu(h100, 0.12, 0.5)
    assert half == pytest.approx(full - 0.5 * 0.7)  # half of a 700 W GPU comes off
    # 85 % of the heat load left needs a cap well below 85 %: the non-GPU load stays whole.
    cap = cap_for_it_fraction(h100, 0.12, 0.85)
    assert it_kw_per_gpu(h100, 0.12, cap) == pytest.approx(0.85 * full)
    assert cap < 0.75
    with pytest.raises(ValueError, match="shed"):
        cap_for_it_fraction(h100, 0.12, 0.3)


def test_ride_through_and_energy() -> None:
    assert ride_through_min(10, 100) == pytest.approx(6.0)
    with pytest.raises(ValueError):
        ride_through_min(10, 0)
    assert annual_energy_mwh(100, 0.8, 1.2) == pytest.approx(100 * 0.8 * 1.2 * 8760)


def test_thermal_buffer_of_loop_water() -> None:
    # 1 MW into 1 m3 of water warms it by 1 K in 4.16 s; 100 m3 and 5 K hold 1 MW ~35 min.
    assert thermal_buffer_s(1, 1, 1) == pytest.approx(995 * 4.18 / 1000)
    assert thermal_buffer_s(1, 100, 5) / 60 == pytest.approx(34.7, rel=1e-2)
    assert thermal_buffer_s(100, 100, 5) == pytest.approx(thermal_buffer_s(1, 100, 5) / 100)
    with pytest.raises(ValueError):
        thermal_buffer_s(0, 10, 5)


def test_estimate_facility_and_bad_input() -> None:
    r = estimate_facility(FacilityInput(system="dgx_h100", systems_per_rack=4,
                                        overhead_frac=0.1, pue=1.2, facility_mw=150,
                                        avg_load_frac=0.8, price_usd_per_mwh=60))
    assert r.gpus_per_mw == pytest.approx(1000 / (1.275 * 1.1 * 1.2))
    assert r.annual_cost_usd == pytest.approx(r.annual_mwh * 60)
    with pytest.raises(ValidationError):
        FacilityInput(system="dgx_h100", systems_per_rack=4, overhead_frac=0.1, pue=1e400,
                      facility_mw=150)
    with pytest.raises(ValidationError):
        FacilityInput(system="dgx_h100", systems_per_rack=4, overhead_frac=0.1, pue=0.5,
                      facility_mw=150)
