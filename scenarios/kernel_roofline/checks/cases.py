"""Profiles of a training step's kernels: the variant's own profile and the hidden cases.

A case is {"id", "profile": {"step", "kernels": [...], "proposals": [...]}, "gpu": {...}}.
The kernels are those of a dense transformer training step (GEMMs forward and backward,
fused attention, norms, rotary or GELU, residual adds, loss, optimizer, copies and the tiny
bookkeeping kernels of a step); the measured time of each is its roofline
(graders/hw/roofline.py) over an efficiency drawn around the catalog's measured ones (GEMM
MSMF, BabelStream HBM), never faster than the roofline. Kinds of hidden cases, each aimed at
a shortcut:

- llama / gpt: the two layer styles; compute-bound GEMMs and attention (all-memory-bound is
  wrong), launch-bound bookkeeping kernels (no launch floor is wrong), copies without FLOPs.
- fp8_mix: GEMMs already in FP8, one of them between the BF16 and the FP8 ridge (a ridge
  at the wrong precision is wrong).
- tf32: an FP32 model on TF32 tensor cores.
- vector: a transcendental-heavy FP32 kernel compute-bound on the vector units (the tensor
  peak for it is wrong).
- small: a small model whose step is full of launch-bound kernels.
- moe: a memory-bound router GEMM, and an FP8 proposal for it that loses (answering every
  proposal in the ranking is wrong).
Every case's l2_bytes are larger than its DRAM bytes (reuse in L2): using them puts GEMMs
above their roofline.
"""

from __future__ import annotations

import random
from typing import Any

GPUS = ["A100-SXM4-80GB", "A100-SXM4-40GB", "H100-SXM-80GB", "H100-PCIe-80GB",
        "H200-SXM-141GB", "B200-SXM-180GB", "MI300X"]
KINDS = ["llama", "gpt", "fp8_mix", "tf32", "vector", "small", "moe", "llama", "gpt"]
SHORTCUT_KINDS = {"fp8_mix", "vector", "small", "moe"}
TRIES = 60


def _hw() -> Any:
    from graders.hw import roofline  # outside the sandbox only

    return roofline


def _gpu_for(rng: random.Random, kind: str) -> str:
    if kind == "fp8_mix":
        return rng.choice([g for g in GPUS if not g.startswith("A100")])
    if kind == "tf32":
        return rng.choice(["A100-SXM4-80GB", "A100-SXM4-40GB", "H100-SXM-80GB"])
    return rng.choice(GPUS)


def _eff(rng: random.Random, catalog_gpu: Any, klass: str, dtype: str) -> float:
    """Share of the roofline a kernel of this class reaches (drawn around measured ones)."""
    if klass == "gemm":
        base = catalog_gpu.gemm_efficiency.get(dtype, catalog_gpu.gemm_efficiency["bf16"])
        return min(0.95, float(base) * rng.uniform(0.8, 1.12))
    if klass == "attention":
        return rng.uniform(0.4, 0.72)
    if klass == "launch":
        return rng.uniform(0.45, 0.9)
    if klass == "copy":
        return rng.uniform(0.55, 0.9)
    return min(0.97, float(catalog_gpu.hbm_read_efficiency) * rng.uniform(0.7, 1.0))


class _Builder:
    def __init__(self, rng: random.Random, gpu_name: str) -> None:
        from graders.hw.catalog import get_gpu

        self.rng = rng
        self.hw = _hw()
        self.gpu = self.hw.roofline_gpu(gpu_name)
        self.cat = get_gpu(gpu_name)
        self.rows: list[dict[str, Any]] = []

    def add(self, name: str, count: int, flops: float, dram: float, dtype: str, tensor: bool,
            klass: str, l2_factor: tuple[float, float] = (1.05, 1.6)) -> dict[str, Any]:
        flops, dram = float(round(flops)), float(round(dram))
        k = self.hw.Kernel(name, count, 1.0, flops, dram, dtype, tensor)
        att = self.hw.kernel_roofline(self.gpu, k).attainable_us
        eff = _eff(self.rng, self.cat, klass, dtype)
        row = {"name": name, "count": count, "total_us": round(att / eff, 1),
               "flops": int(flops), "dram_bytes": int(dram),
               "l2_bytes": int(dram * self.rng.uniform(*l2_factor)),
               "dtype": dtype, "tensor_core": tensor}
        self.rows.append(row)
        return row

    def gemm(self, name: str, count: int, m: int, n: int, k: int, dtype: str,
             bwd: bool = False, reuse: float | None = None) -> dict[str, Any]:
        eb = {"fp8": 1, "bf16": 2, "fp16": 2, "tf32": 4}[dtype]
        ob = 4 if dtype == "tf32" else 2
        mult = 2 if bwd else 1
        flops = 2.0 * m * n * k * mult * count
        ideal = ((m * k + k * n) * eb + m * n * ob) * mult * count
        dram = ideal * (reuse if reuse is not None else self.rng.uniform(1.05, 1.5))
        row = self.add(name, count, flops, dram, dtype, True, "gemm", l2_factor=(6, 24))
        row["_inputs"] = (m * k + k * n) * eb * mult * count * (dram / ideal)
        row["_cast"] = m * k * (2 + 1) * mult * count  # 16-bit activation read, FP8 written
        return row

    def elementwise(self, name: str, count: int, elems: int, reads: int, flops_per: float,
                    eb: int = 2, dtype: str = "bf16", klass: str = "elementwise"
                    ) -> dict[str, Any]:
        return self.add(name, count, flops_per * elems * count,
                        (reads + 1) * elems * eb * count, dtype, False, klass)


def _finish(b: _Builder, cid: str, step: str, proposals: list[dict[str, Any]]
            ) -> dict[str, Any]:
    rows = [{k: v for k, v in r.items() if not k.startswith("_")} for r in b.rows]
    b.rng.shuffle(rows)
    rows.sort(key=lambda r: -r["total_us"])
    return {"id": cid, "profile": {"step": step, "kernels": rows, "proposals": proposals},
            "gpu": b.gpu.as_dict()}


def _build(rng: random.Random, gpu_name: str, kind: str, cid: str, extra: bool = True
           ) -> dict[str, Any]:
    b = _Builder(rng, gpu_name)
    small = kind == "small"
    h = rng.choice([1024, 1536, 2048]) if small else rng.choice([2048, 4096, 5120, 8192])
    tokens = rng.choice([2048, 4096]) if small else rng.choice([4096, 8192, 16384])
    layers = rng.choice([12, 16, 24]) if small else rng.choice([24, 32, 40, 48])
    micro = rng.choice([1, 2, 4])
    n = layers * micro
    ffn = int(round(h * (8 / 3 if kind != "gpt" else 4) / 256)) * 256
    kv = rng.choice([h, h // 4, h // 8]) if kind != "gpt" else h
    has_fp8 = "fp8" in b.gpu.tensor_tflops
    gd = {"tf32": "tf32"}.get(kind, "bf16")
    up_dtype = "fp8" if kind == "fp8_mix" else gd
    T = tokens
    qkv = b.gemm("gemm_qkv_fwd", n, T, h + 2 * kv, h, gd)
    b.gemm("gemm_qkv_bwd", n, T, h + 2 * kv, h, gd, bwd=True)
    b.gemm("gemm_attn_out_fwd", n, T, h, h, gd)
    b.gemm("gemm_attn_out_bwd", n, T, h, h, gd, bwd=True)
    up_n = 2 * ffn if kind != "gpt" else ffn
    up = b.gemm("gemm_mlp_up_fwd", n, T, up_n, h, up_dtype)
    b.gemm("gemm_mlp_up_bwd", n, T, up_n, h, up_dtype, bwd=True)
    b.gemm("gemm_mlp_down_fwd", n, T, h, ffn, up_dtype)
    b.gemm("gemm_mlp_down_bwd", n, T, h, ffn, up_dtype, bwd=True)
    if kind == "fp8_mix":
        # a skinny FP8 GEMM between the BF16 and the FP8 ridge: memory-bound at its own
        f8, b16 = b.gpu.ridge("fp8", True), b.gpu.ridge("bf16", True)
        target = rng.uniform(b16 * 1.15, f8 * 0.85)
        m_, n_, k_ = T, 256 * rng.choice([1, 2]), h
        flops = 2.0 * m_ * n_ * k_ * n
        b.add("gemm_lora_b_fwd_fp8", n, flops, flops / target, "fp8", True, "gemm",
              l2_factor=(4, 12))
    attn_flops = 2.0 * T * T * h * n  # causal: half of 4 T^2 h per layer and micro-batch
    attn_bytes = 4.0 * T * h * 2 * n  # q, k, v read, o written (16-bit)
    b.add("flash_attn_fwd", n, attn_flops, attn_bytes, gd if gd != "tf32" else "bf16",
          True, "attention", l2_factor=(3, 10))
    b.add("flash_attn_bwd", n, 2.5 * attn_flops, 2.5 * attn_bytes,
          gd if gd != "tf32" else "bf16", True, "attention", l2_factor=(3, 10))
    ew = 4 if kind == "tf32" else 2
    ewd = "fp32" if kind == "tf32" else "bf16"
    chains: list[dict[str, Any]] = []
    if kind == "gpt":
        bias = b.elementwise("bias_add_fwd", n, T * ffn, 1, 1, ew, ewd)
        gelu = b.elementwise("gelu_fwd", n, T * ffn, 1, 8, ew, ewd)
        drop = b.elementwise("dropout_fwd", n, T * h, 1, 2, ew, ewd)
        res = b.elementwise("residual_add_fwd", n, T * h, 2, 1, ew, ewd)
        norm = b.elementwise("layernorm_fwd", n, T * h, 1, 8, ew, ewd)
        b.elementwise("layernorm_bwd", n, T * h, 3, 12, ew, ewd)
        b.elementwise("gelu_bwd", n, T * ffn, 2, 10, ew, ewd)
        chains.append({"id": "fuse-bias-gelu", "kernels": [bias, gelu],
                       "inter": [T * ffn * ew * n]})
        chains.append({"id": "fuse-dropout-residual-norm", "kernels": [drop, res, norm],
                       "inter": [T * h * ew * n, T * h * ew * n]})
    else:
        res = b.elementwise("residual_add_fwd", n, T * h, 2, 1, ew, ewd)
        norm = b.elementwise("rmsnorm_fwd", n, T * h, 1, 4, ew, ewd)
        b.elementwise("rmsnorm_bwd", n, T * h, 3, 8, ew, ewd)
        b.elementwise("rotary_emb_fwd", n, T * (h + kv), 1, 3, ew, ewd)
        b.elementwise("silu_mul_fwd", n, T * ffn, 2, 5, ew, ewd)
        b.elementwise("silu_mul_bwd", n, T * ffn, 3, 8, ew, ewd)
        chains.append({"id": "fuse-residual-rmsnorm", "kernels": [res, norm],
                       "inter": [T * h * ew * n]})
    if kind == "vector":
        ridge = b.gpu.ridge("fp32", False)
        elems = T * h
        target = rng.uniform(1.6, 3.0) * ridge
        b.add("rope_cos_sin_fp32", n, target * elems * 4 * n, elems * 4 * n, "fp32", False,
              "elementwise")
    vocab = rng.choice([32000, 50304, 128256])
    b.gemm("gemm_lm_head_fwd", micro, T, vocab, h, gd)
    b.gemm("gemm_lm_head_bwd", micro, T, vocab, h, gd, bwd=True)
    b.elementwise("cross_entropy_fwd_bwd", micro, T * vocab, 1, 6, 2, "bf16")
    # the optimizer updates this rank's shard of the parameters (ZeRO / FSDP over the
    # data-parallel ranks): FP32 master weight, gradient and two moments, read and written
    params = (12 * h * h * layers + 2 * vocab * h) // rng.choice([8, 16, 32, 64])
    b.add("multi_tensor_adamw_fp32", 1 if not small else 2, 14.0 * params,
          params * 4 * 4 * 2, "fp32", False, "elementwise")
    b.add("copy_contiguous_transpose", n, 0.0, 2 * T * h * 2 * n, "bf16", False, "copy")
    b.add("memcpy_dtod_grad_bucket", rng.choice([8, 16, 32]), 0.0,
          2 * params * 2 * rng.uniform(0.3, 0.6), "bf16", False, "copy")
    tensors = 9 * layers + 3
    b.add("fill_zero_grad", tensors, 0.0, tensors * 4096 * rng.choice([1, 4, 16]), "fp32",
          False, "launch")
    norm_sq = b.add("grad_norm_sq", tensors, tensors * 2.0 * 16384, tensors * 16384 * 4.0,
                    "fp32", False, "launch")
    scale = b.add("grad_clip_scale", tensors, tensors * 1.0 * 16384, tensors * 16384 * 8.0,
                  "fp32", False, "launch")
    chains.append({"id": "fuse-norm-clip", "kernels": [norm_sq, scale],
                   "inter": [0.0]})
    if small:
        b.add("bias_grad_reduce_small", 4 * n, 4.0 * n * h * 64, 4 * n * h * 64 * 2.0, "bf16",
              False, "launch")
    router = None
    if kind == "moe":
        router = b.gemm("gemm_router_fwd", n, T, rng.choice([8, 16, 64]), h, "bf16")
    proposals: list[dict[str, Any]] = []
    for c in chains:
        proposals.append({"id": c["id"], "kind": "fuse",
                          "kernels": [k["name"] for k in c["kernels"]],
                          "intermediate_bytes": [int(x) for x in c["inter"]]})
    fp8_targets: list[tuple[str, dict[str, Any]]] = []
    if up_dtype != "fp8":
        fp8_targets.append(("fp8-mlp-up-fwd", up))
    if up_dtype == "fp8" or rng.random() < 0.6:
        fp8_targets.append(("fp8-qkv-fwd", qkv))
    if router is not None:
        fp8_targets.append(("fp8-router-fwd", router))
    for pid, g in fp8_targets:
        proposals.append({"id": pid, "kind": "fp8", "kernel": g["name"],
                          "input_bytes": int(g["_inputs"]), "cast_bytes": int(g["_cast"])})
    if extra and kind in ("llama", "gpt", "small", "vector") and rng.random() < 0.6:
        # LoRA fine-tuning: the rank-r down-projection is a skinny, memory-bound GEMM whose
        # FP8 cast costs more bytes than its smaller inputs save (a proposal that loses)
        lora = b.gemm("gemm_lora_a_fwd", n, T, rng.choice([8, 16, 32]), h, "bf16")
        if has_fp8:
            proposals.append({"id": "fp8-lora-a-fwd", "kind": "fp8", "kernel": lora["name"],
                              "input_bytes": int(lora["_inputs"]),
                              "cast_bytes": int(lora["_cast"])})
    rng.shuffle(proposals)
    step = (f"{'small ' if small else ''}{kind if kind in ('gpt', 'llama') else 'dense'} "
            f"training step: hidden {h}, {layers} layers, {micro} micro-batch(es) of {T} "
            f"tokens on {b.gpu.name}" + ("" if has_fp8 or not fp8_targets else
                                          " (no FP8 tensor cores)"))
    return _finish(b, cid, step, proposals)


def _well_posed(case: dict[str, Any]) -> bool:
    """No kernel on a knife edge between two bounds, no gain near zero, no near-tied gains."""
    ref = _reference()
    r = ref.reference(case)
    for k in r["kernels"]:
        roofs = sorted([k["_compute_us"], k["_memory_us"], k["_launch_us"]], reverse=True)
        if roofs[1] > 0 and roofs[0] / roofs[1] < 1.08:
            return False
        if k["fraction"] > 1.0:
            return False
    gains = sorted((p["gain_us"] for p in r["proposals"] if p["gain_us"] != 0.0),
                   reverse=True)
    if any(abs(g) < 2.0 for g in gains):
        return False
    pos = [g for g in gains if g > 0]
    return all(a / b > 1.06 for a, b in zip(pos, pos[1:], strict=False))


def _reference() -> Any:
    from scenarios.hooks import sibling

    return sibling(__file__, "reference.py")


def make_case(rng: random.Random, gpu: str, kind: str, cid: str, extra: bool = True
              ) -> dict[str, Any]:
    case: dict[str, Any] = {}
    for _ in range(TRIES):
        case = _build(rng, gpu, kind, cid, extra)
        if _well_posed(case):
            return case
    return case


def main_profile(gpu: str, seed: int) -> dict[str, Any]:
    """The variant's own profile (the write-up is about it): a Llama-style step."""
    rng = random.Random(f"kernel-roofline-main-{gpu}-{seed}")
    kind = "fp8_mix" if rng.random() < 0.3 and not gpu.startswith("A100") else "llama"
    return make_case(rng, gpu, kind, "given-profile", extra=False)


def cases(params: dict[str, Any], n: int) -> list[dict[str, Any]]:
    rng = random.Random(f"kernel-roofline-cases-{params['case_seed']}")
    out = []
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        out.append(make_case(rng, _gpu_for(rng, kind), kind, f"case-{i + 1}-{kind}"))
    return out


def summary(case: dict[str, Any]) -> str:
    p = case["profile"]
    return (f"{case['id']}: {p['step']}; {len(p['kernels'])} kernels, "
            f"{len(p['proposals'])} proposals")

