"""Published figures vs graders/hw/roofline.py: the roofs, and measured kernels under them.

Run: .venv/bin/python bench/roofline_validation.py
1. Roofs: the dense peaks and HBM bandwidths of the catalog (data sheets) and the ridge
   points they give, per GPU and precision.
2. Compute roof: OpenXLA's measured H100 BF16 GEMM table (bench/data/xla_matmul_sm90.csv,
   54 shapes): each shape's measured time against its roofline (the operands and output
   at the data-sheet bandwidth, the FLOPs at the data-sheet peak, one launch floor). A
   roofline is a bound, so no measured kernel may beat it; the fractions reached say what
   share a well-tuned GEMM gets (the scenario draws GEMM efficiencies around the catalog's
   MSMF, 0.8-1.12 of it).
3. Memory roof: BabelStream (Azure AI-benchmarking-guide, catalog HBM_READ) measured HBM
   read bandwidth as a fraction of the data-sheet roof, the share a streaming (memory-bound)
   kernel reaches.
4. Launch floor: te42kyfo/gpu-benches gpu-small-kernels, 64 KiB kernels back to back in a
   CUDA graph at 49 GB/s (A100) and 29 GB/s (H200): the measured time per kernel against its
   memory roof, which it misses by two orders of magnitude (the per-launch floor).
"""

from __future__ import annotations

import csv
import statistics
from pathlib import Path

from graders.hw.catalog import HBM_READ, get_gpu
from graders.hw.roofline import attainable_us, roofline_gpu

GPUS = ["A100-SXM4-80GB", "H100-SXM-80GB", "H100-PCIe-80GB", "H200-SXM-141GB",
        "B200-SXM-180GB", "MI300X"]
DATASHEET = {  # dense TFLOP/s BF16, FP8 and HBM TB/s as the vendors print them
    "A100-SXM4-80GB": (312, None, 2.039, "NVIDIA A100 datasheet (624 TF BF16 sparse)"),
    "H100-SXM-80GB": (989.4, 1978.9, 3.35, "NVIDIA H100 datasheet (1,979 / 3,958 TF sparse)"),
    "H100-PCIe-80GB": (756.5, 1513, 2.0, "NVIDIA H100 PCIe datasheet (1,513 / 3,026 TF sparse)"),
    "H200-SXM-141GB": (989.4, 1978.9, 4.8, "NVIDIA H200 datasheet"),
    "B200-SXM-180GB": (2250, 4500, 8.0, "NVIDIA DGX B200 datasheet (per GPU)"),
    "MI300X": (1307.4, 2614.9, 5.3, "AMD Instinct MI300X datasheet (dense)"),
}


def roofs() -> None:
    print("Roofs (catalog = data sheet) and ridge points, FLOP per DRAM byte:")
    print(f"  {'GPU':16s} {'BF16 TF':>8s} {'FP8 TF':>8s} {'TB/s':>6s} {'ridge BF16':>10s} "
          f"{'ridge FP8':>9s} {'ridge vec':>9s}  data sheet")
    for name in GPUS:
        g = roofline_gpu(name)
        bf16, fp8, tbs, src = DATASHEET[name]
        assert g.tensor_tflops["bf16"] == bf16 and abs(g.hbm_gbps - tbs * 1000) < 1e-6
        assert g.tensor_tflops.get("fp8") == fp8
        f8 = f"{g.ridge('fp8', True):9.0f}" if "fp8" in g.tensor_tflops else f"{'-':>9s}"
        print(f"  {name:16s} {bf16:8.1f} {fp8 or '-':>8} {tbs:6.2f} "
              f"{g.ridge('bf16', True):10.0f} {f8} {g.ridge('fp32', False):9.1f}  {src}")


def gemm_table() -> None:
    g = roofline_gpu("H100-SXM-80GB")
    path = Path(__file__).with_name("data") / "xla_matmul_sm90.csv"
    with path.open() as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    fractions, bounds = [], {"compute": 0, "memory": 0, "launch": 0}
    for r in rows:
        m, n, k = int(r["m"]), int(r["n"]), int(r["k"])
        flops = 2.0 * m * n * k
        dram = 2.0 * (m * k + k * n + m * n)  # each operand and the output once (a lower bound)
        measured_us = flops / (float(r["tflops"]) * 1e12) * 1e6
        roof = attainable_us(g, flops, dram, 1, "bf16", True)
        c, mem, launch = (flops / (g.tensor_tflops["bf16"] * 1e12) * 1e6,
                          dram / (g.hbm_gbps * 1e9) * 1e6, g.launch_floor_us)
        bounds["launch" if launch > max(c, mem) else "compute" if c >= mem else "memory"] += 1
        fractions.append(roof / measured_us)
    above = sum(f > 1.0 for f in fractions)
    big = [fr for fr, r in zip(fractions, rows, strict=True)
           if int(r["n"]) >= 2048 and int(r["k"]) >= 2048 and int(r["m"]) >= 2048]
    print(f"\nOpenXLA measured H100 BF16 GEMMs ({len(rows)} shapes; bounds {bounds}):")
    print(f"  measured above the roofline: {above} of {len(rows)} (a bound: must be 0)")
    print(f"  fraction of the roofline reached: min {min(fractions):.2f}, median "
          f"{statistics.median(fractions):.2f}, max {max(fractions):.2f}; m, n, k >= 2048 "
          f"({len(big)}): median {statistics.median(big):.2f} (catalog MSMF "
          f"{get_gpu('H100-SXM-80GB').gemm_efficiency['bf16']:.2f}, MAMF 0.80)")


def streams() -> None:
    print("\nBabelStream HBM read bandwidth, share of the memory roof a streaming kernel reaches:")
    for key, name in (("A100-80", "A100-SXM4-80GB"), ("H100", "H100-SXM-80GB"),
                      ("H200", "H200-SXM-141GB"), ("MI300X", "MI300X")):
        g = roofline_gpu(name)
        print(f"  {name:16s} measured {HBM_READ[key] * g.hbm_gbps / 1000:.2f} TB/s of "
              f"{g.hbm_gbps / 1000:.2f}: fraction {HBM_READ[key]:.2f}")


def launches() -> None:
    print("\nTiny kernels (64 KiB each, back to back in a CUDA graph):")
    for name, gbps in (("A100-SXM4-80GB", 49.0), ("H200-SXM-141GB", 29.0)):
        g = roofline_gpu(name)
        measured = 65536 / (gbps * 1e9) * 1e6
        memory_roof = 65536 / (g.hbm_gbps * 1e9) * 1e6
        print(f"  {name:16s} measured {measured:.2f} us per kernel; memory roof "
              f"{memory_roof:.3f} us (fraction {memory_roof / measured:.3f}); launch floor "
              f"{g.launch_floor_us:.2f} us (fraction {g.launch_floor_us / measured:.2f})")


if __name__ == "__main__":
    roofs()
    gemm_table()
    streams()
    launches()
