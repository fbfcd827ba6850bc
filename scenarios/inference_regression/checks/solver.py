"""Reference solver for inference-regression (hidden): finds the planted cause from the
artifacts alone, the way a good on-call engineer would.

First the KV pool: the startup logs' GPU blocks before and after. A pool that shrank is a
preemption storm's cause, and the diff says which flag shrank it (the KV dtype fp8 -> auto
doubles the bytes per token; a lower gpu-memory-utilization leaves less after the weights).
Same pool: prefix caching turned off (cached tokens vanish), a prefill budget per step
far from the old one, the same prompts (characters) costing more tokens per tenant, or a tenant that
only the new server's log has, sending long prompts. Look-alike flags (fp8_e4m3, a higher
gpu-memory-utilization, max-num-seqs, the hash algorithm) never decide anything.
"""

from __future__ import annotations

import csv
import io
import math
import re
from typing import Any


def _text(artifacts: dict[str, bytes], path: str) -> str:
    return artifacts[path].decode("utf-8")


def flags(yaml_text: str) -> dict[str, str]:
    out = {}
    for line in yaml_text.splitlines():
        m = re.match(r"^  ([a-z0-9-]+): (.*)$", line)
        if m:
            out[m.group(1)] = m.group(2).strip()
    return out


def gpu_blocks(log: str) -> int:
    m = re.search(r"# GPU blocks: (\d+)", log)
    return int(m.group(1)) if m else 0


def requests(text: str) -> list[dict[str, str]]:
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    return list(csv.DictReader(io.StringIO("\n".join(lines))))


def p99(values: list[float]) -> float:
    v = sorted(values)
    k = (len(v) - 1) * 0.99
    lo = math.floor(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def tokens_per_char(rows: list[dict[str, str]]) -> dict[str, float]:
    tok: dict[str, float] = {}
    chars: dict[str, float] = {}
    for r in rows:
        tok[r["tenant"]] = tok.get(r["tenant"], 0) + int(r["prompt_tokens"])
        chars[r["tenant"]] = chars.get(r["tenant"], 0) + int(r["prompt_chars"])
    return {t: tok[t] / chars[t] for t in tok if chars[t]}


def solve(artifacts: dict[str, bytes]) -> dict[str, Any]:
    fb = flags(_text(artifacts, "config/serve-before.yaml"))
    fa = flags(_text(artifacts, "config/serve-after.yaml"))
    blocks_b = gpu_blocks(_text(artifacts, "logs/startup-before.log"))
    blocks_a = gpu_blocks(_text(artifacts, "logs/startup-after.log"))
    block = int(fa.get("block-size", "16"))
    rb = requests(_text(artifacts, "requests/before.csv"))
    ra = requests(_text(artifacts, "requests/after.csv"))
    out: dict[str, Any] = {
        "kv_tokens_after": blocks_a * block,
        "ttft_p99_before_ms": round(p99([float(r["ttft_ms"]) for r in rb]), 1),
        "ttft_p99_after_ms": round(p99([float(r["ttft_ms"]) for r in ra]), 1),
    }

    def ans(family: str, setting: str) -> dict[str, Any]:
        return {"cause_family": family, "changed_setting": setting, **out}

    if blocks_a < 0.8 * blocks_b:
        if fb.get("kv-cache-dtype", "").startswith("fp8") and fa.get("kv-cache-dtype") == "auto":
            return ans("kv_cache_dtype", "kv-cache-dtype")
        if float(fa["gpu-memory-utilization"]) < float(fb["gpu-memory-utilization"]):
            return ans("kv_preemption", "gpu-memory-utilization")
        return out
    if fb.get("enable-prefix-caching") == "true" and fa.get("enable-prefix-caching") == "false" \
            and sum(int(r["cached_tokens"]) for r in ra) == 0:
        return ans("prefix_cache_off", "enable-prefix-caching")
    budget = int(fa["max-num-batched-tokens"]) / int(fb["max-num-batched-tokens"])
    if budget >= 2 or budget <= 0.5:
        return ans("chunked_prefill_budget", "max-num-batched-tokens")
    tb, ta = tokens_per_char(rb), tokens_per_char(ra)
    common = [t for t in tb if t in ta]
    if common and min(ta[t] / tb[t] for t in common) > 1.15 \
            and fa.get("tokenizer-revision") != fb.get("tokenizer-revision"):
        return ans("tokenizer_change", "tokenizer-revision")
    old = {r["tenant"] for r in rb}
    for t in sorted({r["tenant"] for r in ra} - old):
        rows = [r for r in ra if r["tenant"] == t]
        if sum(int(r["prompt_tokens"]) for r in rows) / len(rows) > 8000 \
                and len(rows) > 0.01 * len(ra):
            return ans("long_context_tenant", "none")
    return out
