"""Roofline analysis of a training step's kernels.

Implement analyse(profile, gpu) as the prompt describes. Only the standard library is
available where it runs. Input (profile/input.json holds a full one):

    profile = {
        "step": "llama training step: hidden 4096, ...",
        "kernels": [
            # totals over the kernel's `count` launches in one step
            {"name": "gemm_mlp_up_fwd", "count": 24, "total_us": 50000.0,
             "flops": 20000000000000, "dram_bytes": 12000000000, "l2_bytes": 150000000000,
             "dtype": "bf16", "tensor_core": True},
            {"name": "fill_zero_grad", "count": 200, "total_us": 600.0, "flops": 0,
             "dram_bytes": 800000, "l2_bytes": 1000000, "dtype": "fp32",
             "tensor_core": False},
            ...
        ],
        "proposals": [
            {"id": "fuse-residual-rmsnorm", "kind": "fuse",
             "kernels": ["residual_add_fwd", "rmsnorm_fwd"],
             "intermediate_bytes": [800000000]},     # one entry per link of the chain
            {"id": "fp8-mlp-up-fwd", "kind": "fp8", "kernel": "gemm_mlp_up_fwd",
             "input_bytes": 3000000000, "cast_bytes": 2400000000},
        ],
    }
    gpu = {"name": "H100-SXM-80GB",
           "tensor_tflops": {"bf16": 989.4, "fp16": 989.4, "fp8": 1978.9, "tf32": 494.7},
           "vector_tflops": 66.9, "hbm_gbps": 3350, "launch_floor_us": 2.26}

Output:

    {
        "kernels": [{"name": "gemm_mlp_up_fwd", "intensity": 1500.0, "bound": "compute",
                     "attainable_us": 20000.0, "fraction": 0.4}, ...],   # every kernel
        "proposals": [{"id": "fp8-mlp-up-fwd", "gain_us": 12345.6}, ...],  # every proposal
        "ranking": ["fp8-mlp-up-fwd", ...],
    }

(The numbers above show the shapes of the data, not a worked example.)
"""

from __future__ import annotations

from typing import Any


def analyse(profile: dict[str, Any], gpu: dict[str, Any]) -> dict[str, Any]:
    # TODO: the roofline of every kernel, the gain of every proposal, the ranking.
    return {"kernels": [], "proposals": [], "ranking": []}
