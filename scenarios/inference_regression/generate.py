"""Variant data for inference-regression: p99 latency of an LLM server (vLLM-style) rose
sharply after a deploy. The candidate gets both servers' Prometheus dumps, a per-minute
metrics export, sampled gateway request logs, the config diff, startup logs and DCGM.

Every latency and pool size comes from graders.hw: the KV pool from the memory model
(graders.hw.serving.estimate_serving: weights, profiled activations, gpu_memory_utilization,
KV bytes per token), a decode step and a prompt's prefill compute from the kernel model
(graders.hw.serving_perf). A window is solved forward: the arrival rate and the tenants'
prompts give the prefill load; the concurrency is the arrival rate times the request
latency (fixed point); KV demand over the pool gives the cache usage, and over 1 a queue
and preemptions. One cause from six families is planted; each family's surface signature
also sits somewhere harmless on every seed (a gpu_memory_utilization raise, fp8 -> fp8_e4m3,
a prefix-caching hash change, a tokenizers library bump, explicit chunked prefill, a
long-prompt tenant with little traffic, a few preemptions before the deploy, a tenant whose
unique prompts never hit the prefix cache). Text formats are in formats.py.
"""

from __future__ import annotations

import math
import random
from functools import lru_cache
from types import ModuleType
from typing import Any

from scenarios.hooks import sibling

FAMILIES = ["kv_preemption", "kv_cache_dtype", "prefix_cache_off", "long_context_tenant",
            "tokenizer_change", "chunked_prefill_budget"]
WINDOW_S = 900  # each server is scraped 15 minutes after it started
SAMPLE_EVERY = 5  # the gateway logs one request in five
BLOCK = 16
MAX_MODEL_LEN = 32768
DEPLOYS: dict[str, dict[str, Any]] = {
    "llama3.1-70b-fp8 on 2x H100": dict(
        model="llama3-70b", gpu="H100-SXM-80GB", tp=2, weight_dtype="fp8",
        hf="neuralmagic/Meta-Llama-3.1-70B-Instruct-FP8", quant="fp8", mem_mib=81559,
        power=(330, 690), clock=1980),
    "llama3.1-70b on 4x H100": dict(
        model="llama3-70b", gpu="H100-SXM-80GB", tp=4, weight_dtype="bf16",
        hf="meta-llama/Llama-3.1-70B-Instruct", quant=None, mem_mib=81559,
        power=(300, 680), clock=1980),
    "llama3.1-70b-fp8 on 1x H200": dict(
        model="llama3-70b", gpu="H200-SXM-141GB", tp=1, weight_dtype="fp8",
        hf="neuralmagic/Meta-Llama-3.1-70B-Instruct-FP8", quant="fp8", mem_mib=143771,
        power=(340, 690), clock=1980),
    "llama3.1-8b on 1x H100": dict(
        model="llama3-8b", gpu="H100-SXM-80GB", tp=1, weight_dtype="bf16",
        hf="meta-llama/Llama-3.1-8B-Instruct", quant=None, mem_mib=81559,
        power=(280, 650), clock=1980),
}
# Tenants: (name, share of requests, shared prefix tokens, unique tokens lo-hi, output lo-hi,
# characters per token). chat and rag share long system/instruction prefixes; evals sends
# unique prompts (never a prefix hit); the archive tenant sends very long prompts, rarely.
TENANTS = [
    ("support-chat", 0.52, (1200, 1800), (150, 600), (180, 650), 4.1),
    ("rag-search", 0.36, (1500, 2200), (600, 1600), (120, 380), 4.4),
    ("evals", 0.11, (0, 0), (600, 2000), (40, 220), 3.9),
]
LONG_DECOY = ("legal-archive", 0.0025, (0, 0), (18000, 27000), (300, 700), 4.3)
NEW_TENANT_NAMES = ["contracts-summarizer", "doc-digest", "meeting-notes", "kb-ingest"]


def _formats() -> ModuleType:
    return sibling(__file__, "formats.py")


@lru_cache(maxsize=4096)
def _perf(deploy: str, kv: Any, batch: int, prompt: int) -> tuple[float, float]:
    """(decode step at `batch` sequences of `prompt` context, one prompt's prefill compute
    folded into decode steps), seconds, from graders.hw.serving_perf."""
    from graders.hw.serving_perf import ServingPerfInput, estimate_serving_perf

    d = DEPLOYS[deploy]
    r = estimate_serving_perf(ServingPerfInput(
        model=d["model"], gpu=d["gpu"], tp=d["tp"], weight_dtype=d["weight_dtype"],
        kv_dtype=kv, batch_size=batch, prompt_len=prompt, output_len=1))
    return r.itl_first_s, r.steady_itl_s - r.itl_s  # steady = itl + b/o x prefill compute


def decode_step(deploy: str, kv: str, batch: float, context: float) -> float:
    b = max(1, int(round(batch)))
    b = b if b <= 64 else int(round(b / 8) * 8)
    return _perf(deploy, kv, b, max(64, int(round(context / 256) * 256)))[0]


_PC: dict[tuple[str, str, int], float] = {}


def prefill_compute(deploy: str, kv: str, tokens: int) -> float:
    if tokens <= 0:
        return 0.0
    t = max(16, int(round(tokens / 64) * 64))
    key = (deploy, kv, t)
    per = _PC.get(key)
    if per is None:
        per = _PC[key] = _perf(deploy, kv, 1, t)[1] / t
    return per * tokens


@lru_cache(maxsize=256)
def kv_pool(deploy: str, kv: Any, gmu: float, batched: int) -> dict[str, float]:
    """The memory model's pool for the server's flags (vLLM's rule)."""
    from graders.hw.serving import ServingInput, estimate_serving

    d = DEPLOYS[deploy]
    r = estimate_serving(ServingInput(
        model=d["model"], gpu=d["gpu"], tp=d["tp"], weight_dtype=d["weight_dtype"],
        kv_dtype=kv, gpu_memory_utilization=gmu, max_model_len=MAX_MODEL_LEN,
        block_size=BLOCK, max_num_batched_tokens=max(batched, MAX_MODEL_LEN)))
    return {"blocks": r.num_blocks, "tokens": r.kv_capacity_tokens,
            "weights_gib": r.weights_gib_per_gpu, "act_gib": r.activation_peak_gib,
            "non_torch_gib": r.non_torch_gib, "pool_gib": r.kv_pool_gib_per_gpu,
            "kvb_gpu": r.kv_bytes_per_token_per_gpu, "kvb": r.kv_bytes_per_token,
            "total_gib": (d["mem_mib"] / 1024)}


class Server:
    """One server's flags (the deploy's before or after)."""

    def __init__(self, **kw: Any) -> None:
        self.gmu: float = kw["gmu"]
        self.kv: str = kw["kv"]  # "fp8", "fp8_e4m3" or "auto"
        self.prefix: bool = kw["prefix"]
        self.batched: int = kw["batched"]
        self.max_seqs: int = kw["max_seqs"]
        self.tokenizer_rev: str = kw["tokenizer_rev"]
        self.hash_algo: str = kw["hash_algo"]
        self.image: str = kw["image"]
        self.extra: dict[str, Any] = kw.get("extra", {})

    @property
    def kv_model(self) -> str:
        return "bf16" if self.kv == "auto" else "fp8"


class Window:
    """One 30-minute window: requests, gauges, histograms, all from the forward model."""

    def __init__(self, inc: Incident, srv: Server, tenants: list[tuple[Any, ...]],
                 lam: float, inflation: float, start: int, preempt_few: int,
                 b_ref: float) -> None:
        r = inc.rng
        dep, kv = inc.deploy, srv.kv_model
        pool = kv_pool(dep, kv, srv.gmu, srv.batched)
        self.pool = pool
        self.srv = srv
        self.start = start
        # The requests of the window (prompts first, latencies once the load is solved).
        reqs: list[dict[str, Any]] = []
        for name, share, pre, uniq, out, cpt in tenants:
            n = max(1, int(round(lam * share * WINDOW_S * r.uniform(0.95, 1.05))))
            t0 = inc.new_tenant_start if name == inc.new_tenant else 0
            prefix_tok = inc.prefixes.get(name, 0)
            rnd = r.random
            for _ in range(n):
                u = uniq[0] + int(rnd() * (uniq[1] - uniq[0] + 1))
                o = out[0] + int(rnd() * (out[1] - out[0] + 1))
                chars = int((prefix_tok + u) * cpt * (0.97 + 0.06 * rnd()))
                reqs.append(dict(tenant=name, ts=start + t0 + (WINDOW_S - t0) * rnd(),
                                 prefix=int(prefix_tok * inflation), unique=int(u * inflation),
                                 out=max(2, int(o * inflation)), chars=chars))
        reqs.sort(key=lambda q: q["ts"])
        first_seen: set[str] = set()
        for q in reqs:
            q["prompt"] = q["prefix"] + q["unique"]
            hit = srv.prefix and q["prefix"] >= BLOCK and q["tenant"] in first_seen
            first_seen.add(q["tenant"])
            q["cached"] = (q["prefix"] // BLOCK) * BLOCK if hit else 0
            q["uncached"] = q["prompt"] - q["cached"]
        n = len(reqs)
        lam_eff = n / WINDOW_S
        mean_pc = sum(prefill_compute(dep, kv, q["uncached"]) for q in reqs) / n
        self.rho = lam_eff * mean_pc
        mean_out = sum(q["out"] for q in reqs) / n
        mean_prompt = sum(q["prompt"] for q in reqs) / n
        seq_tokens = sum(q["prompt"] + q["out"] / 2 for q in reqs) / n
        ctx = mean_prompt + mean_out / 2
        # Concurrency = arrival rate x request latency, the decode step priced at the old
        # server's concurrency (first order: after the deploy, the queue the change builds
        # is what the candidate sees, not a new equilibrium).
        d = decode_step(dep, kv, b_ref, ctx)
        d_eff = d / max(0.05, 1 - self.rho)
        e2e = mean_pc * (1 + self.rho) + (mean_out - 1) * d_eff
        b = min(float(srv.max_seqs), lam_eff * e2e)
        self.b = b
        self.demand = b * seq_tokens
        self.capacity = pool["tokens"]
        ratio = self.demand / self.capacity
        self.ratio = ratio
        if ratio > 0.96:  # KV-bound: what does not fit waits, running sequences get preempted
            running = 0.96 * self.capacity / seq_tokens
            waiting = min(b - running, 0.1 * running)
            wait_mean = waiting / lam_eff
            preempt_frac = min(0.45, 0.12 + 1.6 * (ratio - 0.96))
        else:
            running, waiting, wait_mean, preempt_frac = b, 0.0, 0.0, 0.0
        self.running, self.waiting = running, waiting
        self.usage = min(0.995, ratio)
        d = decode_step(dep, kv, running, ctx)
        d_eff = d / max(0.05, 1 - self.rho)
        self.d, self.d_eff = d, d_eff
        # Decode tokens count against the step's token budget (one per running sequence):
        # what is left is the prefill chunk a step can carry.
        m = max(64, srv.batched - int(running))
        self.chunk = m
        preemptions = preempt_few
        for q in reqs:
            steps = math.ceil(max(q["uncached"], 1) / m)
            pre_t = (steps * d + prefill_compute(dep, kv, q["uncached"])) * (1 + self.rho)
            wait = r.expovariate(1 / (0.4 * d_eff))
            if wait_mean:
                wait += r.expovariate(1 / wait_mean)
            q["ttft"] = wait + pre_t * r.uniform(0.96, 1.04)
            tpot = d_eff * r.uniform(0.93, 1.07)
            extra = 0.0
            if preempt_frac and r.random() < preempt_frac:
                gen = r.randint(1, q["out"])
                extra = r.expovariate(1 / wait_mean) + prefill_compute(dep, kv, q["prompt"] + gen)
                preemptions += 1
                q["preempted_at"] = q["ts"] + q["ttft"] + gen * tpot
            q["tpot"] = tpot
            q["total"] = q["ttft"] + (q["out"] - 1) * tpot + extra
        self.preemptions = preemptions
        self.preempt_times = sorted(q["preempted_at"] for q in reqs if "preempted_at" in q)
        self.preempt_times += sorted(start + r.uniform(60, WINDOW_S - 60)
                                     for _ in range(preempt_few))
        self.preempt_times.sort()
        # The counter at the scrape (a request preempted later is not in the dump yet).
        self.preemptions = sum(t <= start + WINDOW_S for t in self.preempt_times)
        self.reqs = reqs
        # Per-token inter-token latencies: a share f of decode steps carries a prefill chunk.
        chunk_steps = sum(math.ceil(max(q["uncached"], 1) / m) for q in reqs) / WINDOW_S
        self.chunk_share = min(0.95, chunk_steps * d_eff)
        chunks: list[float] = []
        for q in reqs[:: max(1, n // 3000)]:
            left = q["uncached"]
            while left > 0:
                c = min(m, left)
                chunks.append(prefill_compute(dep, kv, c))
                left -= c
        self.chunk_costs = chunks
        self.tokens_out = sum(q["out"] for q in reqs)
        sampled = reqs[inc.sample_offset:: SAMPLE_EVERY]
        self.sampled = sampled


def percentile(values: list[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default, pandas' quantile)."""
    v = sorted(values)
    if not v:
        return 0.0
    k = (len(v) - 1) * p
    lo = math.floor(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


class Incident:
    def __init__(self, seed: int, params: dict[str, Any]) -> None:
        r = random.Random(f"inference-regression:v1:{seed}")
        self.rng = r
        self.deploy = params["deployment"]
        self.d = DEPLOYS[self.deploy]
        self.family = FAMILIES[r.randrange(len(FAMILIES))]
        self.sample_offset = r.randrange(SAMPLE_EVERY)
        self.new_tenant = r.choice(NEW_TENANT_NAMES)
        self.new_tenant_start = r.uniform(30, 240)
        self.day = r.randint(1, 27)
        self.t_old = 13 * 3600 + 28 * 60 + r.randint(0, 50)
        self.t_new = self.t_old + WINDOW_S + 120 + r.randint(0, 60)
        fam = self.family
        tok_old = "".join(r.choice("0123456789abcdef") for _ in range(7))
        tok_new = "".join(r.choice("0123456789abcdef") for _ in range(7)) \
            if fam == "tokenizer_change" else tok_old
        max_seqs = r.choice([384, 512])
        before = Server(gmu=0.90, kv="fp8", prefix=True, batched=2048, max_seqs=max_seqs,
                        tokenizer_rev=tok_old, hash_algo="builtin", image="v0.6.3.post1")
        # Harmless look-alikes, on every seed where they are not the cause.
        after_kw: dict[str, Any] = dict(
            gmu=0.92, kv="fp8_e4m3", prefix=True, batched=2048, max_seqs=max_seqs + 128,
            tokenizer_rev=tok_new, hash_algo="sha256", image="v0.6.4.post1")
        tenants: list[tuple[Any, ...]] = list(TENANTS) + [LONG_DECOY]
        evals_after = r.uniform(1.7, 2.3)  # a new eval sweep: the evals share doubles
        ev = next(t[1] for t in tenants if t[0] == "evals")
        rest_scale = (1 - ev * evals_after) / (1 - ev)  # the same request rate in total
        tenants_after: list[tuple[Any, ...]] = [
            (n, s * (evals_after if n == "evals" else rest_scale), *rest)
            for n, s, *rest in tenants]
        inflation = 1.0
        # KV usage of the old server: high enough that a pool cut overflows it, and with room
        # for the knock-on growth of the other families (longer requests, more in flight).
        usage = r.uniform(0.55, 0.62) if fam in ("kv_preemption", "kv_cache_dtype") \
            else r.uniform(0.38, 0.46)
        rho = r.uniform(0.19, 0.25)
        if fam == "kv_cache_dtype":
            after_kw["kv"] = "auto"
            after_kw["gmu"] = 0.90
        elif fam == "prefix_cache_off":
            after_kw["prefix"] = False
        elif fam == "chunked_prefill_budget":
            after_kw["batched"] = r.choice([256, 512])
        elif fam == "tokenizer_change":
            inflation = r.uniform(1.3, 1.45)
        elif fam == "long_context_tenant":
            share = r.uniform(0.022, 0.035)
            tenants_after.append((self.new_tenant, share, (0, 0), (14000, 26000), (250, 600),
                                  4.2))
        self.before_srv = before
        # The old server's concurrency from the KV usage, then the output scale and arrival
        # rate that give it the prefill load rho (both solved on the tenants' means).
        pool = kv_pool(self.deploy, "fp8", before.gmu, before.batched)["tokens"]
        self.out_scale, self.lam, self.b0 = self._solve_load(tenants, pool, usage, rho)
        tenants = self._scaled(tenants)
        tenants_after = self._scaled(tenants_after)
        over = r.uniform(1.18, 1.3)
        # Each tenant's shared system prompt, the same on both servers.
        self.prefixes = {str(t[0]): r.randint(t[2][0], t[2][1]) for t in tenants_after
                         if t[2][1]}
        few = r.randint(3, 11)
        self.w_before = Window(self, before, tenants, self.lam, 1.0, self.t_old, few,
                               b_ref=self.b0)
        if fam == "kv_preemption":  # the budget that leaves a pool `over` times too small
            gmu = 0.90
            while gmu > 0.3:
                gmu = round(gmu - 0.01, 2)
                if kv_pool(self.deploy, "fp8", gmu, 2048)["tokens"] * over <= \
                        self.w_before.demand:
                    break
            after_kw["gmu"] = gmu
        after = Server(**after_kw)
        self.after_srv = after
        self.w_after = Window(self, after, tenants_after, self.lam, inflation, self.t_new, 0,
                              b_ref=self.w_before.b)
        self.inflation = inflation
        self.dip_gpu = r.randrange(self.d["tp"])
        self.dip_at = r.randint(3, 10)

    def _means(self, tenants: list[tuple[Any, ...]], scale: float) -> dict[str, float]:
        dep = self.deploy
        out = dict(pc=0.0, out=0.0, seq=0.0, prompt=0.0)
        for _name, share, pre, uniq, o, _cpt in tenants:
            p = (pre[0] + pre[1]) / 2
            u = (uniq[0] + uniq[1]) / 2
            oo = (max(8, int(o[0] * scale)) + max(16, int(o[1] * scale))) / 2
            cached = (p // BLOCK) * BLOCK
            out["pc"] += share * prefill_compute(dep, "fp8", int(p + u - cached))
            out["out"] += share * oo
            out["seq"] += share * (p + u + oo / 2)
            out["prompt"] += share * (p + u)
        return out

    def _rate(self, m: dict[str, float], b: float) -> float:
        """The arrival rate at which b requests are in flight: b = lambda x latency."""
        d = decode_step(self.deploy, "fp8", b, m["prompt"] + m["out"] / 2)
        lo, hi = 1e-3, 1e3
        for _ in range(60):
            lam = (lo * hi) ** 0.5
            rho = lam * m["pc"]
            e2e = m["pc"] * (1 + rho) + (m["out"] - 1) * d / max(0.05, 1 - rho)
            if lam * e2e > b:
                hi = lam
            else:
                lo = lam
        return lo

    def _solve_load(self, tenants: list[tuple[Any, ...]], pool: float, usage: float,
                    rho: float) -> tuple[float, float, float]:
        lo, hi = 0.5, 4.0
        for _ in range(25):
            mid = (lo + hi) / 2
            m = self._means(tenants, mid)
            b = usage * pool / m["seq"]
            lam = self._rate(m, b)
            if lam * m["pc"] > rho:  # outputs too short: too many arrivals
                lo = mid
            else:
                hi = mid
        scale = (lo + hi) / 2
        m = self._means(tenants, scale)
        b = usage * pool / m["seq"]
        return scale, self._rate(m, b), b

    def _scaled(self, tenants: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        s = self.out_scale
        return [(n, sh, pre, uniq, (max(8, int(o[0] * s)), max(16, int(o[1] * s))), cpt)
                for n, sh, pre, uniq, o, cpt in tenants]

    def headline(self) -> dict[str, float]:
        b = [round(q["ttft"] * 1e3, 1) for q in self.w_before.sampled]
        a = [round(q["ttft"] * 1e3, 1) for q in self.w_after.sampled]
        return {"ttft_p99_before_ms": round(percentile(b, 0.99), 1),
                "ttft_p99_after_ms": round(percentile(a, 0.99), 1)}


CHANGED_KEY = {"kv_preemption": "gpu-memory-utilization", "kv_cache_dtype": "kv-cache-dtype",
               "prefix_cache_off": "enable-prefix-caching", "long_context_tenant": "none",
               "tokenizer_change": "tokenizer-revision",
               "chunked_prefill_budget": "max-num-batched-tokens"}


def generate(seed: int, params: dict[str, Any]) -> dict[str, Any]:
    inc = Incident(seed, params)
    f = _formats()
    artifacts: dict[str, bytes] = {}

    def put(path: str, text: str) -> None:
        artifacts[path] = text.encode("utf-8")

    put("config/serve-before.yaml", f.serve_yaml(inc, inc.before_srv))
    put("config/serve-after.yaml", f.serve_yaml(inc, inc.after_srv))
    put("config/deploy.diff", f.deploy_diff(inc))
    put("deploy/release-notes.md", f.release_notes(inc))
    put("logs/startup-before.log", f.startup_log(inc, inc.w_before))
    put("logs/startup-after.log", f.startup_log(inc, inc.w_after))
    put("metrics/before.prom", f.prom_dump(inc, inc.w_before))
    put("metrics/after.prom", f.prom_dump(inc, inc.w_after))
    put("metrics/per_minute.csv", f.per_minute(inc))
    put("requests/before.csv", f.request_log(inc, inc.w_before))
    put("requests/after.csv", f.request_log(inc, inc.w_after))
    put("gpu/dcgm.csv", f.dcgm(inc))
    head = inc.headline()
    return {
        "params": {
            "cause_family": inc.family,
            "changed_setting": CHANGED_KEY[inc.family],
            "kv_tokens_before": int(inc.w_before.pool["tokens"]),
            "kv_tokens_after": int(inc.w_after.pool["tokens"]),
            "preemptions_after": int(inc.w_after.preemptions),
            "gmu_after": inc.after_srv.gmu,
            "batched_after": inc.after_srv.batched,
            "new_tenant": inc.new_tenant if inc.family == "long_context_tenant" else "none",
            "inflation": round(inc.inflation, 3),
            **head,
            "red_herrings": ["gmu-raise", "fp8-e4m3-alias", "prefix-hash-algo",
                             "tokenizers-lib-bump", "max-num-seqs-raise", "legal-archive",
                             "evals-hit-rate", "preemptions-before", "gpu-clock-dip",
                             "image-bump"],
        },
        "artifacts": artifacts,
    }
