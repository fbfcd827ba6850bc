"""The GPU power/thermal throttle model of graders.hw.facility: clocks follow the power along
the DVFS cube law, a cap or the thermal target binds, flow and fouling raise the plate
resistance, the power brake pins the clock, and the slowest rank sets the step time."""

from __future__ import annotations

import pytest

from graders.hw.facility import (
    THROTTLE_BITS,
    clock_at_power,
    coolant_resistance,
    coolant_rise_k,
    get_thermal_gpu,
    gpu_state,
    plate_resistance,
    step_time_ratio,
    w_class,
)

H100 = get_thermal_gpu("H100-SXM")


def test_unconstrained_gpu_runs_at_max_clock_and_design_temperature() -> None:
    r = plate_resistance(H100, 1.0) + coolant_resistance(1.0)
    st = gpu_state(H100, 27.0, r)
    assert st.clock_mhz == H100.max_clock_mhz and st.reasons == 0
    assert st.power_w == pytest.approx(0.95 * 700)
    assert 55 < st.temp_c < 75  # direct liquid holds H100s in the 60s at a W32 supply


def test_power_cap_sets_sw_power_cap_and_follows_the_cube_law() -> None:
    st = gpu_state(H100, 27.0, plate_resistance(H100, 1.0), cap_w=500)
    assert st.reasons == THROTTLE_BITS["SW_POWER_CAP"] and st.power_w == 500
    p_load, p_s = 665.0, 0.25 * 665.0
    assert st.clock_mhz == pytest.approx(1980 * ((500 - p_s) / (p_load - p_s)) ** (1 / 3))
    assert st.temp_c < gpu_state(H100, 27.0, plate_resistance(H100, 1.0)).temp_c
    # A cap below the driver's minimum is the minimum.
    assert gpu_state(H100, 27.0, 0.05, cap_w=50).power_w == H100.min_cap_w


def test_low_flow_and_fouling_reach_the_thermal_target() -> None:
    healthy = plate_resistance(H100, 1.0) + coolant_resistance(1.0)
    low = plate_resistance(H100, 0.35) + coolant_resistance(0.35)
    fouled = plate_resistance(H100, 1.0, fouling=2.4) + coolant_resistance(1.0)
    assert low > 1.5 * healthy and fouled > 2 * healthy
    for r in (low, fouled):
        st = gpu_state(H100, 27.0, r)
        assert st.reasons == THROTTLE_BITS["SW_THERMAL_SLOWDOWN"]
        assert st.temp_c == pytest.approx(H100.target_c)
        assert st.clock_mhz < 0.95 * H100.max_clock_mhz
    # A warmer supply alone: throttles only once it is ~20 K above a W32 hall's.
    assert gpu_state(H100, 30.0, healthy).reasons == 0
    assert gpu_state(H100, 52.0, healthy).reasons == THROTTLE_BITS["SW_THERMAL_SLOWDOWN"]


def test_power_brake_pins_the_clock_with_hw_bits() -> None:
    st = gpu_state(H100, 27.0, plate_resistance(H100, 1.0), brake=True)
    assert st.reasons == 0x88
    assert st.clock_mhz == pytest.approx(0.35 * 1980)
    assert st.power_w < 0.4 * H100.tdp_w


def test_clock_at_power_is_monotonic_and_capped() -> None:
    clocks = [clock_at_power(H100, p) for p in range(200, 800, 50)]
    assert clocks == sorted(clocks) and clocks[-1] == H100.max_clock_mhz


def test_coolant_rise_and_classes() -> None:
    # 1 kW in 1.5 L/min: 9.6 K (the ~1.5 L/min per kW rule gives a ~10 K loop rise).
    assert coolant_rise_k(1.0, 1.5) == pytest.approx(9.62, abs=0.02)
    with pytest.raises(ValueError):
        coolant_rise_k(1.0, 0)
    assert [w_class(t) for t in (16, 27, 30, 40, 44, 50)] == \
        ["W17", "W27", "W32", "W40", "W45", "W+"]


def test_slowest_rank_sets_the_step() -> None:
    assert step_time_ratio(1.0, 0.8) == 1.0
    assert step_time_ratio(0.5, 0.8) == pytest.approx(1.8)
    assert step_time_ratio(0.9, 0.0) == 1.0
    with pytest.raises(ValueError):
        step_time_ratio(1.2, 0.5)
    with pytest.raises(ValueError):
        get_thermal_gpu("A100")
