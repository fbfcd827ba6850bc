"""Expected values for fabric-bring-up (hidden): what a healthy cluster of the variant's size
reaches at 8 GiB, from the collective model (graders.hw.fabric). The measured figure is the
variant's own parameter (read off the generated log)."""

from __future__ import annotations

from typing import Any

SIZE = 8 << 30


def answer_key(params: dict[str, Any]) -> dict[str, Any]:
    from graders.hw.fabric import expected_busbw

    links = {"A100-SXM4-80GB": ("NVLink3", "IB-HDR")}.get(params["gpu_model"],
                                                          ("NVLink4", "IB-NDR"))
    healthy = expected_busbw(links[0], links[1], int(params["num_nodes"]), SIZE)
    return {"expected_busbw_gbs": round(healthy, 1),
            "shortfall_pct": round(100 * (1 - params["measured_busbw_gbs"] / healthy), 1)}
