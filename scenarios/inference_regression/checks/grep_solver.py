"""The shortcut a candidate who skips the analysis would take (hidden): grep each family's
signature in a fixed order, answer with the first hit, lift the numbers off the first lines
that look right, write three words. selftest grades it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Finder = Callable[[dict[str, bytes]], "str | None"]


def _t(a: dict[str, bytes], path: str) -> str:
    return a[path].decode("utf-8")


def _changed(a: dict[str, bytes], key: str) -> bool:
    return any(line.startswith(("-", "+")) and f" {key}:" in line
               for line in _t(a, "config/deploy.diff").splitlines())


def find_preempt(a: dict[str, bytes]) -> str | None:
    # Preemptions on the old server too, and gpu-memory-utilization changes on every deploy.
    if re.search(r"num_preemptions_total\{[^}]*\} [1-9]", _t(a, "metrics/before.prom")):
        return "gpu-memory-utilization"
    return "gpu-memory-utilization" if _changed(a, "gpu-memory-utilization") else None


def find_dtype(a: dict[str, bytes]) -> str | None:
    return "kv-cache-dtype" if _changed(a, "kv-cache-dtype") else None


def find_prefix(a: dict[str, bytes]) -> str | None:
    return "enable-prefix-caching" if "prefix-caching" in _t(a, "config/deploy.diff") else None


def find_tokenizer(a: dict[str, bytes]) -> str | None:
    return "tokenizer-revision" if "tokenizers" in _t(a, "deploy/release-notes.md") else None


def find_chunk(a: dict[str, bytes]) -> str | None:
    return "max-num-batched-tokens" if "chunked-prefill" in _t(a, "config/deploy.diff") else None


def find_tenant(a: dict[str, bytes]) -> str | None:
    for line in _t(a, "requests/after.csv").splitlines()[2:]:
        cols = line.split(",")
        if len(cols) > 4 and cols[4].isdigit() and int(cols[4]) > 12000:
            return "none"
    return None


ORDER: list[tuple[str, Finder]] = [
    ("kv_preemption", find_preempt), ("kv_cache_dtype", find_dtype),
    ("prefix_cache_off", find_prefix), ("tokenizer_change", find_tokenizer),
    ("chunked_prefill_budget", find_chunk), ("long_context_tenant", find_tenant),
]


def solve(artifacts: dict[str, bytes], skip_first: int = 0) -> dict[str, Any]:
    """skip_first: drop that many families from the front of ORDER (a grep that knows the
    first signatures are everywhere)."""
    family, setting = "kv_preemption", "gpu-memory-utilization"
    for fam, find in ORDER[skip_first:]:
        hit = find(artifacts)
        if hit is not None:
            family, setting = fam, hit
            break
    m = re.search(r"# GPU blocks: (\d+)", _t(artifacts, "logs/startup-after.log"))
    ttft = re.findall(r'time_to_first_token_seconds_bucket\{[^}]*le="([0-9.]+)"\} ',
                      _t(artifacts, "metrics/after.prom"))
    return {"cause_family": family, "changed_setting": setting,
            "kv_tokens_after": int(m.group(1)) if m else 0,  # blocks, not tokens
            "ttft_p99_before_ms": 500.0, "ttft_p99_after_ms": 1000.0 if ttft else 0.0,
            "evidence": f"Found {family} signature in the deploy.", "fix": f"Revert {setting}.",
            "verification": "Check latency again."}
