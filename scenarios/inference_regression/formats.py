"""Text formats of inference-regression's artifacts (server flags and their diff, release
notes, vLLM startup logs, Prometheus dumps, a per-minute export, gateway request logs,
DCGM). Each takes the generator's Incident (and a Window or Server)."""

from __future__ import annotations

import difflib
from typing import Any

Incident = Any  # generate.Incident (loaded from its file, not a package)
Window = Any
Server = Any

TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5,
                5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0]
TPOT_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0,
                7.5, 10.0, 20.0, 40.0, 80.0]
E2E_BUCKETS = [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0,
               60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0]


def clock(inc: Incident, t: float, ms: bool = True) -> str:
    t = max(0.0, t)
    h, rem = divmod(int(t), 3600)
    m, s = divmod(rem, 60)
    base = f"2025-11-{inc.day:02d}T{h:02d}:{m:02d}:{s:02d}"
    return base + (f".{int((t % 1) * 1000):03d}Z" if ms else "Z")


def _short(inc: Incident, t: float) -> str:
    h, rem = divmod(int(t), 3600)
    m, s = divmod(rem, 60)
    return f"11-{inc.day:02d} {h:02d}:{m:02d}:{s:02d}"


def serve_yaml(inc: Incident, srv: Server) -> str:
    d = inc.d
    after = srv is inc.after_srv
    lines = [
        "# llm-serving/values.yaml: args of the vLLM OpenAI-compatible server (one replica)",
        f"image: vllm/vllm-openai:{srv.image}",
        "args:",
        f"  model: {d['hf']}",
        "  served-model-name: chat-large" if d["model"] == "llama3-70b"
        else "  served-model-name: chat-small",
        f"  tokenizer-revision: {srv.tokenizer_rev}",
        f"  tensor-parallel-size: {d['tp']}",
    ]
    if d["quant"]:
        lines.append(f"  quantization: {d['quant']}")
    lines += [
        f"  max-model-len: {32768}",
        f"  gpu-memory-utilization: {srv.gmu:.2f}",
        f"  kv-cache-dtype: {srv.kv}",
        "  block-size: 16",
        f"  enable-prefix-caching: {'true' if srv.prefix else 'false'}",
        f"  prefix-caching-hash-algo: {srv.hash_algo}",
    ]
    if after:
        lines.append("  enable-chunked-prefill: true")
    lines += [
        f"  max-num-batched-tokens: {srv.batched}",
        f"  max-num-seqs: {srv.max_seqs}",
        "  swap-space: 4" if not after else "  swap-space: 16",
        f"  disable-log-requests: {'true' if after else 'false'}",
        f"  uvicorn-log-level: {'warning' if after else 'info'}",
        "  api-key-file: /run/secrets/llm-gateway/" + ("key-2025-11" if after else "key-2025-08"),
        "resources:",
        f"  nvidia.com/gpu: {d['tp']}",
        "",
    ]
    return "\n".join(lines)


def deploy_diff(inc: Incident) -> str:
    a = serve_yaml(inc, inc.before_srv).splitlines(keepends=True)
    b = serve_yaml(inc, inc.after_srv).splitlines(keepends=True)
    head = [f"# deploy {clock(inc, inc.t_new - 120, ms=False)} by release bot "
            "(PR #4127 \"llm-serving: November maintenance\")\n"]
    return "".join(head + list(difflib.unified_diff(
        a, b, "a/llm-serving/values.yaml", "b/llm-serving/values.yaml", n=2)))


def release_notes(inc: Incident) -> str:
    a, b = inc.before_srv, inc.after_srv
    items = [
        f"- Image `vllm/vllm-openai:{a.image}` -> `{b.image}` (security fixes). Bundled "
        "libraries: `tokenizers` 0.20.1 -> 0.20.3, `transformers` 4.45.2 -> 4.46.1, "
        "`xformers` 0.0.27.post2 -> 0.0.28.post3.",
        f"- `gpu-memory-utilization` {a.gmu:.2f} -> {b.gmu:.2f}: "
        + ("leave room on the GPUs for the embedding sidecar we are co-locating next sprint."
           if b.gmu < a.gmu else "use a little more of the GPU, the load test was fine."),
        f"- `kv-cache-dtype` {a.kv} -> {b.kv}: "
        + ("the fp8 scales warning in the logs was noisy; let vLLM pick the dtype."
           if b.kv == "auto" else "spell the fp8 format out explicitly (same format)."),
        "- `prefix-caching-hash-algo` builtin -> sha256: collision-resistant block hashes "
        "(security review).",
    ]
    if not b.prefix:
        items.append("- `enable-prefix-caching` true -> false: rule out stale cache hits "
                     "while we debug a support-chat ticket about repeated answers.")
    if b.tokenizer_rev != a.tokenizer_rev:
        items.append(f"- `tokenizer-revision` {a.tokenizer_rev} -> {b.tokenizer_rev}: follow "
                     "the tokenizer repository's latest commit (we were pinned to an old one).")
    items.append("- `enable-chunked-prefill: true` made explicit (it is already on for this "
                 "model length).")
    if b.batched != a.batched:
        items.append(f"- `max-num-batched-tokens` {a.batched} -> {b.batched}: smaller prefill "
                     "chunks per step should keep the chat tenants' token streaming smooth.")
    items += [
        f"- `max-num-seqs` {a.max_seqs} -> {b.max_seqs}: headroom for the evening peak.",
        "- `swap-space` 4 -> 16 GiB of CPU swap per GPU.",
        "- `disable-log-requests: true`, `uvicorn-log-level: warning`: less log volume "
        "(the gateway keeps its own sampled request log).",
        "- New API key file (scheduled rotation).",
    ]
    return "\n".join([
        "# PR #4127 llm-serving: November maintenance",
        "",
        "Rolled out by the release bot; the old pod was drained and replaced (one replica, "
        "traffic moved when the new pod passed its readiness probe).",
        "",
        *items,
        "",
        "Tenants are routed by the gateway; no tenant onboarding is part of this change.",
        "",
    ])


def startup_log(inc: Incident, w: Window) -> str:
    srv, p, d = w.srv, w.pool, inc.d
    t = w.start - 95
    kvdtype = {"fp8": "fp8", "fp8_e4m3": "fp8_e4m3", "auto": "auto"}[srv.kv]
    cfg = (f"model='{d['hf']}', speculative_config=None, tokenizer='{d['hf']}', "
           f"skip_tokenizer_init=False, tokenizer_mode=auto, revision=None, "
           f"tokenizer_revision={srv.tokenizer_rev}, trust_remote_code=False, "
           f"dtype=torch.bfloat16, max_seq_len=32768, download_dir=None, load_format=auto, "
           f"tensor_parallel_size={d['tp']}, pipeline_parallel_size=1, "
           f"disable_custom_all_reduce=False, quantization={d['quant']}, "
           f"enforce_eager=False, kv_cache_dtype={kvdtype}, seed=0, "
           f"served_model_name=chat-{'large' if d['model'] == 'llama3-70b' else 'small'}, "
           f"num_scheduler_steps=1, chunked_prefill_enabled=True, "
           f"multi_step_stream_outputs=True, enable_prefix_caching={srv.prefix}, "
           f"use_async_output_proc=True, mm_processor_kwargs=None")
    total = p["total_gib"]
    peak = p["act_gib"]
    lines = [
        f"INFO {_short(inc, t)} api_server.py:528] vLLM API server version "
        f"{srv.image.lstrip('v')}",
        f"INFO {_short(inc, t)} api_server.py:529] args: Namespace(... "
        f"gpu_memory_utilization={srv.gmu}, max_num_batched_tokens={srv.batched}, "
        f"max_num_seqs={srv.max_seqs}, swap_space={4 if srv is inc.before_srv else 16}, ...)",
        f"INFO {_short(inc, t + 1)} llm_engine.py:237] Initializing an LLM engine "
        f"(v{srv.image.lstrip('v')}) with config: {cfg}",
    ]
    if srv.kv.startswith("fp8"):
        lines.append(f"INFO {_short(inc, t + 2)} config.py:653] Using fp8 data type to store "
                     "kv cache. It reduces the GPU memory footprint and boosts the "
                     "performance. Meanwhile, it may cause accuracy drop without a proper "
                     "scaling factor")
    if srv.prefix:
        lines.append(f"INFO {_short(inc, t + 2)} scheduler.py:1040] Prefix caching is enabled "
                     f"(block hash: {srv.hash_algo}).")
    lines += [
        f"INFO {_short(inc, t + 2)} config.py:1020] Chunked prefill is enabled with "
        f"max_num_batched_tokens={srv.batched}.",
        f"INFO {_short(inc, t + 38)} model_runner.py:1072] Loading model weights took "
        f"{p['weights_gib']:.4f} GB",
        *([f"WARNING {_short(inc, t + 40)} kv_cache.py:82] Using uncalibrated q_scale 1.0 "
           "and/or prob_scale 1.0 with fp8 attention. This may cause accuracy issues. Please "
           "make sure q/prob scaling factors are available in the fp8 checkpoint."]
          if srv.kv.startswith("fp8") else []),
        f"INFO {_short(inc, t + 51)} worker.py:232] Memory profiling results: "
        f"total_gpu_memory={total:.2f}GiB initial_memory_usage={p['weights_gib'] + 0.6:.2f}GiB"
        f" peak_torch_memory={p['weights_gib'] + peak:.2f}GiB "
        f"memory_usage_post_profile={p['weights_gib'] + p['non_torch_gib'] + 0.1:.2f}GiB "
        f"non_torch_memory={p['non_torch_gib']:.2f}GiB kv_cache_size={p['pool_gib']:.2f}GiB "
        f"gpu_memory_utilization={srv.gmu:.2f}",
        f"INFO {_short(inc, t + 52)} distributed_gpu_executor.py:57] # GPU blocks: "
        f"{p['blocks']}, # CPU blocks: {int(srv.max_seqs and (4 if srv is inc.before_srv else 16) * 2**30 // (p['kvb_gpu'] * 16))}",
        f"INFO {_short(inc, t + 52)} distributed_gpu_executor.py:61] Maximum concurrency for "
        f"32768 tokens per request: {p['tokens'] / 32768:.2f}x",
        f"INFO {_short(inc, t + 70)} model_runner.py:1523] Graph capturing finished in 17 secs.",
        f"INFO {_short(inc, t + 74)} launcher.py:19] Available routes are: /v1/chat/completions,"
        " /v1/completions, /metrics, /health",
        f"INFO {_short(inc, t + 74)} server.py:82] Started server process",
    ]
    return "\n".join(lines) + "\n"


def _hist(name: str, help_: str, buckets: list[float], obs: list[tuple[float, float]],
          labels: str) -> list[str]:
    """obs: (value, weight) pairs."""
    out = [f"# HELP {name} {help_}", f"# TYPE {name} histogram"]
    total = sum(wt for _, wt in obs)
    s = sum(v * wt for v, wt in obs)
    srt = sorted(obs)
    acc, i = 0.0, 0
    for b in buckets:
        while i < len(srt) and srt[i][0] <= b:
            acc += srt[i][1]
            i += 1
        out.append(f'{name}_bucket{{{labels},le="{b}"}} {round(acc):.1f}')
    out.append(f'{name}_bucket{{{labels},le="+Inf"}} {round(total):.1f}')
    out.append(f"{name}_count{{{labels}}} {round(total):.1f}")
    out.append(f"{name}_sum{{{labels}}} {s:.4f}")
    return out


def _itl_obs(inc: Incident, w: Window) -> list[tuple[float, float]]:
    """Per-token inter-token latencies: most decode steps cost d, a share carries a prefill
    chunk on top; a preempted request waits once for its recompute."""
    r = inc.rng
    tokens = sum(q["out"] - 1 for q in w.reqs)
    f = w.chunk_share
    k = 400
    obs = [(w.d * r.uniform(0.93, 1.07), tokens * (1 - f) / k) for _ in range(k)]
    costs = w.chunk_costs
    m = max(1, len(costs))
    obs += [(w.d + c * r.uniform(0.97, 1.03), tokens * f / m) for c in costs]
    for q in w.reqs:
        if "preempted_at" in q:
            obs.append((q["total"] - q["ttft"] - (q["out"] - 1) * q["tpot"] + q["tpot"], 1.0))
    return obs


def prom_dump(inc: Incident, w: Window) -> str:
    d = inc.d
    srv = w.srv
    r = inc.rng
    model = d["hf"]
    lab = f'model_name="{model}"'
    reqs = w.reqs
    prompt = sum(q["prompt"] for q in reqs)
    gen = sum(q["out"] for q in reqs)
    cached = sum(q["cached"] for q in reqs)
    n = len(reqs)
    stop = int(n * 0.94)
    out = [
        "# scraped from http://llm-serving:8000/metrics at "
        f"{clock(inc, w.start + 900, ms=False)} (server started "
        f"{clock(inc, w.start, ms=False)})",
        "# HELP process_start_time_seconds Start time of the process since unix epoch.",
        "# TYPE process_start_time_seconds gauge",
        f"process_start_time_seconds {1764000000 + inc.day * 86400 + w.start:.2f}",
        "# HELP vllm:cache_config_info Information of the LLMEngine CacheConfig",
        "# TYPE vllm:cache_config_info gauge",
        f'vllm:cache_config_info{{block_size="16",cache_dtype="{srv.kv}",'
        f'enable_prefix_caching="{srv.prefix}",gpu_memory_utilization="{srv.gmu}",'
        f'num_cpu_blocks="{int((4 if srv is inc.before_srv else 16) * 2**30 // (w.pool["kvb_gpu"] * 16))}",'
        f'num_gpu_blocks="{w.pool["blocks"]}",swap_space_bytes='
        f'"{(4 if srv is inc.before_srv else 16) * 2**30}"}} 1.0',
        "# HELP vllm:num_requests_running Number of requests currently running on GPU.",
        "# TYPE vllm:num_requests_running gauge",
        f"vllm:num_requests_running{{{lab}}} {round(w.running * r.uniform(0.95, 1.05)):.1f}",
        "# HELP vllm:num_requests_waiting Number of requests waiting to be processed.",
        "# TYPE vllm:num_requests_waiting gauge",
        f"vllm:num_requests_waiting{{{lab}}} "
        f"{round(w.waiting * r.uniform(0.85, 1.15)) if w.waiting else r.choice([0, 0, 1]):.1f}",
        "# HELP vllm:num_requests_swapped Number of requests swapped to CPU.",
        "# TYPE vllm:num_requests_swapped gauge",
        f"vllm:num_requests_swapped{{{lab}}} 0.0",
        "# HELP vllm:gpu_cache_usage_perc GPU KV-cache usage. 1 means 100 percent usage.",
        "# TYPE vllm:gpu_cache_usage_perc gauge",
        f"vllm:gpu_cache_usage_perc{{{lab}}} {min(0.999, w.usage * r.uniform(0.97, 1.02)):.4f}",
        "# HELP vllm:num_preemptions_total Cumulative number of preemption from the engine.",
        "# TYPE vllm:num_preemptions_total counter",
        f"vllm:num_preemptions_total{{{lab}}} {w.preemptions:.1f}",
        "# HELP vllm:gpu_prefix_cache_queries_total GPU prefix cache queries, in terms of "
        "number of queried tokens.",
        "# TYPE vllm:gpu_prefix_cache_queries_total counter",
        f"vllm:gpu_prefix_cache_queries_total{{{lab}}} {float(prompt if srv.prefix else 0):.1f}",
        "# HELP vllm:gpu_prefix_cache_hits_total GPU prefix cache hits, in terms of number of "
        "cached tokens.",
        "# TYPE vllm:gpu_prefix_cache_hits_total counter",
        f"vllm:gpu_prefix_cache_hits_total{{{lab}}} {float(cached):.1f}",
        "# HELP vllm:prompt_tokens_total Number of prefill tokens processed.",
        "# TYPE vllm:prompt_tokens_total counter",
        f"vllm:prompt_tokens_total{{{lab}}} {float(prompt):.1f}",
        "# HELP vllm:generation_tokens_total Number of generation tokens processed.",
        "# TYPE vllm:generation_tokens_total counter",
        f"vllm:generation_tokens_total{{{lab}}} {float(gen):.1f}",
        "# HELP vllm:request_success_total Count of successfully processed requests.",
        "# TYPE vllm:request_success_total counter",
        f'vllm:request_success_total{{finished_reason="stop",{lab}}} {float(stop):.1f}',
        f'vllm:request_success_total{{finished_reason="length",{lab}}} {float(n - stop):.1f}',
    ]
    out += _hist("vllm:time_to_first_token_seconds", "Histogram of time to first token in "
                 "seconds.", TTFT_BUCKETS, [(q["ttft"], 1.0) for q in reqs], lab)
    out += _hist("vllm:time_per_output_token_seconds", "Histogram of time per output token "
                 "in seconds.", TPOT_BUCKETS, _itl_obs(inc, w), lab)
    out += _hist("vllm:e2e_request_latency_seconds", "Histogram of end to end request "
                 "latency in seconds.", E2E_BUCKETS, [(q["total"], 1.0) for q in reqs], lab)
    return "\n".join(out) + "\n"


def per_minute(inc: Incident) -> str:
    r = inc.rng
    head = ("minute,server,num_requests_running,num_requests_waiting,gpu_cache_usage_perc,"
            "num_preemptions_total,prompt_tokens_total,generation_tokens_total,"
            "request_success_total,prefix_cache_hits_total,prefix_cache_queries_total")
    out = ["# Prometheus range query, 1-minute steps; counters are per server process "
           "(the new pod starts from 0)", head]
    for label, w in (("old", inc.w_before), ("new", inc.w_after)):
        done = sorted((q["ts"] + q["total"], q) for q in w.reqs)
        pre_t = w.preempt_times
        j = k = 0
        acc = dict(p=0, g=0, n=0, h=0, qq=0)
        for minute in range(1, 16):
            end = w.start + minute * 60
            while j < len(done) and done[j][0] <= end:
                q = done[j][1]
                acc["p"] += q["prompt"]
                acc["g"] += q["out"]
                acc["n"] += 1
                acc["h"] += q["cached"]
                acc["qq"] += q["prompt"] if w.srv.prefix else 0
                j += 1
            while k < len(pre_t) and pre_t[k] <= end:
                k += 1
            ramp = min(1.0, minute / 3)
            running = w.running * ramp * r.uniform(0.93, 1.07)
            waiting = w.waiting * r.uniform(0.7, 1.3) if w.waiting and minute > 2 else \
                float(r.random() < 0.1)
            usage = min(0.999, w.usage * ramp * r.uniform(0.96, 1.03))
            out.append(f"{clock(inc, end, ms=False)},{label},{running:.0f},{waiting:.0f},"
                       f"{usage:.3f},{k},{acc['p']},{acc['g']},{acc['n']},{acc['h']},"
                       f"{acc['qq']}")
    return "\n".join(out) + "\n"


def request_log(inc: Incident, w: Window) -> str:
    out = ["# gateway request log, sampled 1 in 5; times in ms; cached_tokens as reported "
           "in usage.prompt_tokens_details",
           "ts,request_id,tenant,prompt_chars,prompt_tokens,cached_tokens,output_tokens,"
           "ttft_ms,total_ms"]
    for i, q in enumerate(w.sampled):
        rid = f"chatcmpl-{(inc.day * 7919 + int(q['ts'] * 1000) + i * 104729) % 16**10:010x}"
        out.append(f"{clock(inc, q['ts'])},{rid},{q['tenant']},{q['chars']},{q['prompt']},"
                   f"{q['cached']},{q['out']},{q['ttft'] * 1e3:.1f},{q['total'] * 1e3:.1f}")
    return "\n".join(out) + "\n"


def dcgm(inc: Incident) -> str:
    r = inc.rng
    d = inc.d
    lo, hi = d["power"]
    out = ["# dcgm-exporter, 1-minute averages per GPU of the serving pod",
           "timestamp,gpu,DCGM_FI_DEV_GPU_UTIL,DCGM_FI_DEV_FB_USED,DCGM_FI_DEV_POWER_USAGE,"
           "DCGM_FI_DEV_SM_CLOCK"]
    for w in (inc.w_before, inc.w_after):
        busy = min(1.0, 0.55 + 0.35 * w.rho + 0.25 * min(1.0, w.usage))
        fb = w.srv.gmu * d["mem_mib"]
        for minute in range(1, 16):
            t = w.start + minute * 60
            for g in range(d["tp"]):
                util = min(100, round(100 * min(1.0, busy + 0.2) * r.uniform(0.97, 1.0)))
                power = lo + (hi - lo) * busy * r.uniform(0.95, 1.03)
                clk = d["clock"] - r.choice([0, 0, 15, 30])
                if w is inc.w_before and g == inc.dip_gpu and inc.dip_at <= minute < \
                        inc.dip_at + 3:
                    clk, power = 1410 + r.randint(-30, 30), hi * 0.99
                out.append(f"{clock(inc, t, ms=False)},{g},{util},{fb * r.uniform(0.996, 1.0):.0f},"
                           f"{power:.1f},{clk}")
    return "\n".join(out) + "\n"
