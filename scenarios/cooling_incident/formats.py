"""Text formats of cooling-incident's artifacts: the hall inventory, dcgm-exporter snapshots
(per GPU now, per node hourly), CDU telemetry, the BMS alarm log, rack PDU readings, BMC
SEL, the training job's step log and per-rank timings, and the ops tickets. Each takes the
generator's Hall."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

Hall = Any  # generate.Hall (loaded from its file, not a package)
HOURS = 24


def t0(hall: Hall) -> dt.datetime:
    return dt.datetime(2026, 11, hall.day - 1, 8, 0, 0)


def ts(hall: Hall, hour: float, iso: bool = True) -> str:
    t = t0(hall) + dt.timedelta(seconds=round(hour * 3600))
    return t.strftime("%Y-%m-%dT%H:%M:%SZ") if iso else t.strftime("%Y-%m-%d %H:%M:%S")


def _other_pump(pump: str) -> str:
    return "P2" if pump == "P1" else "P1"


def _event_hour(hall: Hall) -> float:
    """When the planted cause began: inside the onset hour (the hourly rows after it show it)."""
    return float(hall.onset + 0.7 + 0.25 * ((hall.day * 7) % 10) / 10)


def inventory(hall: Hall) -> str:
    c, g, sys = hall.c, hall.gpu, hall.system
    lines = [
        "# hall B2: liquid-cooled training hall (DCIM export)",
        f"system: {sys.name}",
        f"gpu: {g.name}",
        f"gpu_tdp_w: {g.tdp_w:.0f}",
        f"gpu_max_sm_clock_mhz: {g.max_clock_mhz:.0f}",
        f"gpu_max_operating_temp_c: {g.target_c:.0f}   # SW thermal slowdown target",
        f"gpu_hw_slowdown_temp_c: {g.hw_slowdown_c:.0f}",
        "cooling: direct-to-chip liquid (cold plates on GPUs and CPUs); NICs, SSDs and PSUs "
        "air-cooled through rear-door heat exchangers",
        "facility_water: ASHRAE W32 design (FWS up to 32 C); CDU approach ~3 K",
        f"cold_plate_design_flow_lpm_per_gpu: {c['design_lpm']}",
        "rows:",
    ]
    for cdu in hall.cdus:
        racks = [rk for rk in hall.racks if hall.cdu_of[rk] == cdu]
        lines += [f"  - cdu: {cdu}",
                  f"    design_flow_lpm: {hall.flow_design[cdu]:.0f}",
                  "    pumps: [P1, P2]   # lead/lag, N+1; the lag pump starts on lead failure "
                  "when its HOA switch is in AUTO",
                  f"    racks: [{', '.join(racks)}]"]
    lines += ["racks:"]
    for rk in hall.racks:
        nodes = [n for n in hall.nodes if hall.rack_of[n] == rk]
        lines += [f"  {rk}: {{nodes: {nodes[0]}..{nodes[-1]} ({len(nodes)}), "
                  f"feeds: {c['feeds']} x 3P 415V {c['amps']}A, "
                  f"budget_kw: {hall.budget_full * 0.97:.1f}}}"]
    lines += ["air_cooled_rows:",
              "  storage: {racks: [s01, s02, s03], containment: hot aisle HA-S1}",
              "  network: {racks: [x01, x02], containment: hot aisle HA-S1}",
              "job: atlas-pretrain (synchronous data parallel + tensor parallel, all GPUs of "
              "the hall, one rank per GPU)", ""]
    return "\n".join(lines)


def dcgm_now(hall: Hall) -> str:
    r = hall.rng
    now = hall.states[HOURS]
    head = ("# dcgm-exporter, 15-minute means ending " + ts(hall, HOURS) + "; violation "
            "counters: microseconds throttled within the window\n"
            "Hostname,gpu,rack,DCGM_FI_DEV_SM_CLOCK,DCGM_FI_DEV_POWER_USAGE,"
            "DCGM_FI_DEV_POWER_MGMT_LIMIT,DCGM_FI_DEV_GPU_TEMP,DCGM_FI_DEV_MEMORY_TEMP,"
            "DCGM_FI_DEV_CLOCK_THROTTLE_REASONS,DCGM_FI_DEV_POWER_VIOLATION,"
            "DCGM_FI_DEV_THERMAL_VIOLATION")
    rows = [head]
    for (node, i), s in now.items():
        rack = hall.rack_of[node]
        cap = hall.cap(rack, HOURS)
        limit = hall.gpu.tdp_w if cap is None else cap
        bits = s["reasons"]
        pviol = int(900e6 * r.uniform(0.97, 1.0)) if bits & 0x84 else 0
        tviol = int(900e6 * r.uniform(0.95, 1.0)) if bits & 0x60 else 0
        rows.append(f"{node},{i},{rack},{hall.clock_now[(node, i)]},"
                    f"{s['power'] * r.uniform(0.985, 1.01):.1f},{limit:.1f},"
                    f"{round(s['temp'] + r.uniform(-0.6, 0.6))},"
                    f"{round(s['temp'] + r.uniform(4, 8))},{bits},{pviol},{tviol}")
    return "\n".join(rows) + "\n"


def dcgm_hourly(hall: Hall) -> str:
    r = hall.rng
    rows = ["# dcgm-exporter range query, per node and hour (8 GPUs or 4 per node): mean and "
            "min SM clock, mean power, max GPU temperature, throttle reasons OR-ed over the "
            "hour (hex), seconds any GPU of the node was power- / thermal-throttled",
            "hour_start,Hostname,rack,sm_clock_avg_mhz,sm_clock_min_mhz,power_avg_w,"
            "gpu_temp_max_c,throttle_reasons_or,power_violation_s,thermal_violation_s"]
    for h in range(HOURS):
        st = hall.states[h]
        for node in hall.nodes:
            rack = hall.rack_of[node]
            gs = [st[(node, i)] for i in range(hall.c["gpn"])]
            frac = 1.0
            if rack == hall.test_rack and h == hall.test_hour:
                frac = 40 / 60  # the test window: 02:00-02:40
                base = [hall.states[h - 1][(node, i)] for i in range(hall.c["gpn"])]
                clocks = [frac * g["clock"] + (1 - frac) * b["clock"] for g, b in zip(gs, base)]
                power = [frac * g["power"] + (1 - frac) * b["power"] for g, b in zip(gs, base)]
            else:
                clocks = [g["clock"] for g in gs]
                power = [g["power"] for g in gs]
            bits = 0
            for g in gs:
                bits |= g["reasons"]
            pv = round(3600 * frac * r.uniform(0.97, 1.0)) if bits & 0x84 else 0
            tv = round(3600 * r.uniform(0.9, 1.0)) if bits & 0x60 else 0
            if node == hall.psu_decoy and h == 9:
                bits, pv = bits | 0x88, max(pv, r.randint(2, 4))  # a brake blip: PSU lost AC
            if node == hall.rma_node and h == hall.rma_hour:
                bits, tv = bits | 0x20, max(tv, r.randint(40, 95))  # air after the swap
            rows.append(f"{ts(hall, h)},{node},{rack},"
                        f"{sum(clocks) / len(clocks) * r.uniform(0.997, 1.0):.0f},"
                        f"{15 * math.floor(min(clocks) * r.uniform(0.994, 0.998) / 15)},"
                        f"{sum(power) / len(power) * r.uniform(0.99, 1.01):.0f},"
                        f"{round(max(g['temp'] for g in gs) + r.uniform(0, 0.8))},"
                        f"0x{bits:02x},{pv},{tv}")
    return "\n".join(rows) + "\n"


def _heat_kw(hall: Hall, cdu: str, h: int) -> float:
    st = hall.states[min(HOURS, h)]
    racks = [rk for rk in hall.racks if hall.cdu_of[rk] == cdu]
    gpu_kw = sum(s["power"] for (n, _i), s in st.items() if hall.rack_of[n] in racks) / 1000
    return float(gpu_kw + 0.8 * hall.rest_kw * len(racks))  # CPUs on cold plates too


def cdu_log(hall: Hall) -> str:
    from graders.hw.facility import coolant_rise_k

    r = hall.rng
    rows = ["# CDU telemetry (BMS trend export, 5-minute samples). FWS/FWR: facility water "
            "supply/return; TCS: technology cooling loop (to the racks)",
            "timestamp,cdu,fws_c,fwr_c,tcs_supply_c,tcs_return_c,tcs_flow_lpm,tcs_dp_kpa,"
            "p1_state,p1_speed_pct,p2_state,p2_speed_pct,heat_load_kw"]
    ev = _event_hour(hall)
    for k in range(HOURS * 12):
        h = k / 12
        for cdu in hall.cdus:
            q = hall.flow_frac(cdu, h) if h >= ev or cdu != hall.culprit_cdu else 1.0
            if hall.family == "cdu_pump_degraded" and cdu == hall.culprit_cdu and h < ev:
                q = 1.0
            speed = hall.pump_speed[cdu]
            rotated = cdu == hall.rotation_cdu and hall.rotation_done
            lead_p1 = not (rotated and h >= hall.rotation_hour + 0.4)
            if rotated and abs(h - hall.rotation_hour - 0.4) < 0.05:
                q *= 0.86  # the lead/lag changeover dip
            lead_speed = speed * q if (hall.family == "cdu_pump_degraded"
                                       and cdu == hall.culprit_cdu and h >= ev) else speed
            flow = hall.flow_design[cdu] * 0.92 * q * r.uniform(0.99, 1.01)
            heat = _heat_kw(hall, cdu, int(h))
            sup = hall.fws(h) + hall.approach + r.uniform(-0.1, 0.1)
            ret = sup + coolant_rise_k(heat, flow)
            fws = hall.fws(h) + r.uniform(-0.1, 0.1)
            lag_state = "STANDBY"
            if cdu == hall.standby_fault_cdu and h >= hall.pump_fault_h:
                lag_state = "FAULT"
            if hall.family == "cdu_pump_degraded" and cdu == hall.culprit_cdu and h >= ev - 2.5:
                lag_state = "OFF(HAND)"
            if lead_p1:
                p1 = ("RUN", lead_speed)
                p2 = (lag_state, 0.0)
            else:
                p1 = (lag_state, 0.0)
                p2 = ("RUN", speed)
            rows.append(f"{ts(hall, h)},{cdu},{fws:.1f},{fws + 0.85 * (ret - sup):.1f},"
                        f"{sup:.1f},{ret:.1f},{flow:.0f},{155 * q * q * r.uniform(0.98, 1.02):.0f},"
                        f"{p1[0]},{p1[1]:.0f},{p2[0]},{p2[1]:.0f},{heat:.0f}")
    return "\n".join(rows) + "\n"


def bms_alarms(hall: Hall) -> str:
    ev: list[tuple[float, str]] = []
    # The afternoon FWS warning, every day (the diurnal peak crosses the warning point).
    above = False
    for k in range(HOURS * 12):
        h = k / 12
        hot = hall.fws(h) > hall.fws_warn
        if hot != above:
            ev.append((h, ("WARN   FWS-HALL-B2     Facility water supply temp high warning "
                           f"(> {hall.fws_warn:.1f} C)  ACTIVE") if hot else
                      ("INFO   FWS-HALL-B2     Facility water supply temp high warning  "
                       "CLEARED")))
            above = hot
            if hall.family == "facility_supply_temp" and h > hall.onset:
                break
    sf = hall.standby_fault_cdu
    bad, lead = hall.faulted_pump, _other_pump(hall.faulted_pump)
    ev.append((hall.pump_fault_h, f"ALARM  {sf.upper()}-{bad}        Pump fault: motor overload "
                                  f"trip (lag/standby pump; lead {lead} running)  ACTIVE"))
    rc = hall.rotation_cdu
    ev.append((hall.rotation_hour + 0.4,
               f"INFO   {rc.upper()}          Scheduled lead/lag rotation: lead P1 -> P2"
               if hall.rotation_done else
               f"INFO   {rc.upper()}          Scheduled lead/lag rotation skipped: lag pump "
               "P2 not available"))
    d = hall.storage_door_hour
    ev.append((d, "WARN   HA-S1-DOOR2     Hot aisle containment door open  ACTIVE"))
    ev.append((d + 0.2, "ALARM  S02-INLET       Rack inlet temperature high (31.8 C > 27.0 C)"
                        "  ACTIVE"))
    ev.append((d + 1.6, "INFO   HA-S1-DOOR2     Hot aisle containment door open  CLEARED"))
    ev.append((d + 1.9, "INFO   S02-INLET       Rack inlet temperature high  CLEARED"))
    ev.append((6.0, "INFO   LEAK-B2         Leak detection rope self-test passed (all rows)"))
    e = _event_hour(hall)
    if hall.family == "cdu_pump_degraded":
        c = hall.culprit_cdu.upper()
        ev += [(e - 2.5, f"INFO   {c}-P2        HOA switch HAND/OFF (maintenance)"),
               (e, f"ALARM  {c}-P1        VFD current limit active, speed limited  ACTIVE"),
               (e + 0.1, f"WARN   {c}           TCS flow low (< 80 % of design)  ACTIVE"),
               (e + 0.15, f"WARN   {c}           TCS return temperature high  ACTIVE")]
    if hall.family == "facility_supply_temp":
        ev += [(e, "ALARM  CH-2            Chiller trip: low refrigerant pressure  ACTIVE"),
               (e + 0.1, "INFO   PLANT-B         Chiller plant in dry-cooler fallback mode"),
               (e + 1.5, "ALARM  FWS-HALL-B2     Facility water supply temp high-high "
                         "(> 35.0 C)  ACTIVE")]
    ev.sort()
    return "".join(f"{ts(hall, h, iso=False)}  {msg}\n" for h, msg in ev)


def pdu_log(hall: Hall) -> str:
    r = hall.rng
    c = hall.c
    feeds = "ABC"[:c["feeds"]] if c["feeds"] == 3 else "AB"
    rows = ["# rack PDUs, hourly means; one line per input feed; budget_kw: the rack power "
            "manager's limit for the rack (GPU power limits are set to keep the rack under it)",
            "hour_start,rack,feed,breaker,state,kw,amps_per_phase,rack_budget_kw"]
    for h in range(HOURS):
        st = hall.states[h]
        for rk in hall.racks:
            kw = sum(s["power"] for (n, _i), s in st.items() if hall.rack_of[n] == rk) / 1000
            kw += hall.rest_kw
            lost = hall.family == "rack_power_cap" and rk == hall.culprit_rack and h > hall.onset
            live = feeds[:-1] if lost else feeds
            budget = (hall.budget_lost if lost else hall.budget_full) * 0.97
            for fd in feeds:
                on = fd in live
                share = kw / len(live) * r.uniform(0.97, 1.03) if on else 0.0
                amps = share * 1000 / (math.sqrt(3) * 415 * 0.96)
                rows.append(f"{ts(hall, h)},{rk},{fd},3P 415V {c['amps']}A,"
                            f"{'CLOSED' if on else 'OPEN'},{share:.1f},{amps:.1f},{budget:.1f}")
    return "\n".join(rows) + "\n"


def sel_log(hall: Hall) -> str:
    ev: list[tuple[float, str, str]] = []
    hgx = hall.c["unit"] == "n"
    d = hall.psu_decoy
    if hgx:
        ev += [(9.2, d, "Power Supply PSU4 | Power Supply AC lost | Asserted"),
               (9.2, d, "Power Unit PS Redundancy | Redundancy Degraded (5 of 6 PSUs) | "
                        "Asserted")]
    else:
        ev += [(9.2, d, "Power Unit PDB 54V | Input ripple high | Asserted"),
               (9.3, d, "Power Unit PDB 54V | Input ripple high | Deasserted")]
    ev += [(9.2001, d, "Processor GPU Power Brake | State Asserted"),
           (9.2009, d, "Processor GPU Power Brake | State Deasserted")]
    hn, hg = hall.hot_gpu
    ev.append((2.5, hn, f"Temperature GPU{hg} | Upper Non-critical going high (80 C) | Asserted"))
    e = _event_hour(hall)
    if hall.family == "psu_power_brake":
        n = hall.culprit_node
        if hgx:
            ev += [(e - 3.1, n, "Power Supply PSU5 | Power Supply AC lost | Asserted"),
                   (e - 3.1, n, "Power Unit PS Redundancy | Redundancy Degraded | Asserted"),
                   (e, n, "Power Supply PSU2 | Failure detected | Asserted"),
                   (e, n, "Power Unit PS Redundancy | Redundancy Lost | Asserted"),
                   (e + 0.001, n, "Processor GPU Power Brake | State Asserted")]
        else:
            ev += [(e, n, "Power Unit PDB 54V | Input undervoltage | Asserted"),
                   (e + 0.001, n, "Processor GPU Power Brake | State Asserted")]
    if hall.family == "cold_plate_fault":
        n = hall.culprit_node
        for i in range(hall.c["gpn"]):
            ev.append((e + 0.05 + 0.01 * i, n,
                       f"Temperature GPU{i} | Upper Non-critical going high (80 C) | Asserted"))
    ev.sort()
    out = ["# BMC system event logs (ipmitool sel elist), all nodes of the hall"]
    for k, (h, node, msg) in enumerate(ev):
        out.append(f"{node:<8} | {k + 1:4x} | {ts(hall, h, iso=False)} | {msg}")
    return "\n".join(out) + "\n"


def steps_log(hall: Hall) -> str:
    r = hall.rng
    tokens = 4 * 1024 * 1024
    step = 41200
    out = []
    prev_h = 0.0
    for h, ms in hall.step_series:
        step += round((h - prev_h) * 3600 * 1000 / ms) if h else 0
        prev_h = h
        loss = 2.31 - 0.02 * h / 24 + r.uniform(-0.01, 0.01)
        out.append(f"{ts(hall, h)} [rank0] step={step} step_time_ms={ms:.1f} "
                   f"tokens_per_s={tokens / ms * 1000:,.0f} loss={loss:.4f} "
                   f"grad_norm={r.uniform(0.8, 1.0):.3f}")
    return "\n".join(out) + "\n"


def rank_timings(hall: Hall, rows: list[dict[str, Any]], when: str) -> str:
    out = [f"# per-rank timings, median over 200 steps ending {when}; compute = forward + "
           "backward kernels; comm_wait = time blocked in collectives (incl. waiting for the "
           "slowest rank)",
           "rank,host,local_rank,compute_ms,dataloader_ms,comm_wait_ms,step_ms"]
    for q in rows:
        out.append(f"{q['rank']},{q['host']},{q['local_rank']},{q['compute']:.1f},"
                   f"{q['loader']:.1f},{q['wait']:.1f},{q['step']:.1f}")
    return "\n".join(out) + "\n"


def tickets(hall: Hall) -> str:
    ev: list[tuple[float, str]] = []
    ev.append((0.6, "FAC-2291 Facilities: cooling tower cell 2 fan maintenance this week; "
                    "facility water supply may swing about 1 C over the day. No action."))
    tr = hall.test_rack
    ev.append((1.5, f"CHG-7710 Power: demand-response power-cap test on {tr} tonight "
                    f"02:00-02:40, GPU power limits {hall.test_cap:.0f} W via dcgmi; limits "
                    "restored at 02:40 (done, verified by nvidia-smi -q)."))
    ev.append((hall.rma_hour, f"HW-5530 {hall.rma_node}: RMA swap (failed BMC), node returned "
                              "to the job after health checks (dcgmi diag -r 3 passed)."))
    ev.append((hall.storage_door_hour + 0.3, "FAC-2294 Contractor left HA-S1 door 2 propped "
                                             "open on the storage row; closed."))
    bad, lead = hall.faulted_pump, _other_pump(hall.faulted_pump)
    ev.append((hall.pump_fault_h + 0.1,
               f"FAC-2293 {hall.standby_fault_cdu}: lag pump {bad} tripped (motor overload); "
               f"lead pump {lead} carries the loop, {bad} repair scheduled next week."))
    e = _event_hour(hall)
    fam = hall.family
    if fam == "cdu_pump_degraded":
        ev.append((e - 2.6, f"FAC-2296 {hall.culprit_cdu}: P2 bearing inspection, pump "
                            "isolated (HOA to HAND/OFF)."))
    if fam == "cold_plate_fault":
        ev.append((e - 0.2, f"HW-5541 {hall.culprit_node}: RMA swap (GPU baseboard), node "
                            "returned to the job after health checks (dcgmi diag -r 3 passed)."))
    if fam == "rack_power_cap":
        ev.append((e - 0.1, f"ELEC-884 {hall.culprit_rack}: busway tap-off for feed "
                            f"{'C' if hall.c['feeds'] == 3 else 'B'} replaced after a "
                            "thermographic finding; rack stays on its other feed(s) until "
                            "the electrician signs off (Thursday)."))
    ev.append((HOURS - 0.3, "ML-4411 atlas-pretrain: step time is up since yesterday and "
                            "throughput is down; nobody changed the job. Please investigate."))
    ev.sort()
    out = ["# ops tickets touching hall B2, last 24 h (newest last)", ""]
    out += [f"- {ts(hall, h, iso=False)} {msg}" for h, msg in ev]
    return "\n".join(out) + "\n"


def render_all(hall: Hall) -> dict[str, str]:
    return {
        "inventory/hall.yaml": inventory(hall),
        "telemetry/dcgm_now.csv": dcgm_now(hall),
        "telemetry/dcgm_hourly.csv": dcgm_hourly(hall),
        "facility/cdu_5min.csv": cdu_log(hall),
        "facility/bms_alarms.log": bms_alarms(hall),
        "power/pdu_hourly.csv": pdu_log(hall),
        "bmc/sel.log": sel_log(hall),
        "train/steps.log": steps_log(hall),
        "train/rank_timings_baseline.csv": rank_timings(hall, hall.ranks_base,
                                                        ts(hall, 0.25)),
        "train/rank_timings_now.csv": rank_timings(hall, hall.ranks_now, ts(hall, HOURS)),
        "ops/tickets.md": tickets(hall),
    }
