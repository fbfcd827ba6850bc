"""`burnin hw` commands."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError

import graders.hw as hw  # names load on first use: each command builds only its model

app = typer.Typer(help="Hardware models: training, serving, collectives, checkpoints.", no_args_is_help=True)

InputFile = Annotated[
    Path | None,
    typer.Argument(help="JSON input file; omit or '-' to read standard input.", show_default=False),
]
JsonFlag = Annotated[
    bool, typer.Option("--json", help="Print one JSON document instead of a table.")
]

M = TypeVar("M", bound=BaseModel)


def _fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code=2)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is not a finite number")
    return value


def _no_constant(text: str) -> float:
    raise ValueError(f"{text} is not a finite number")


def _read(path: Path | None, model: type[M]) -> M:
    """Read and validate the input document; exit 2 with field-level messages if bad."""
    try:
        if path is None or str(path) == "-":
            text = sys.stdin.read()
        else:
            text = path.read_text()
    except OSError as exc:
        raise _fail(f"cannot read input: {exc}") from exc
    try:
        data = json.loads(text, parse_float=_finite_float, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise _fail(f"input is not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise _fail("input is nested too deeply (JSON arrays/objects inside each other)") \
            from exc
    except ValueError as exc:  # a non-finite number, or an integer with thousands of digits
        raise _fail(f"input has a number out of range: {exc}") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = ["invalid input:"]
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "(document)"
            lines.append(f"  {loc}: {err['msg']}")
        raise _fail("\n".join(lines)) from exc


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Nested JSON as (dotted.key, text) rows for the table view."""
    if isinstance(value, dict) and value:
        rows: list[tuple[str, str]] = []
        for k, v in value.items():
            rows += _flatten(v, f"{prefix}.{k}" if prefix else str(k))
        return rows
    if isinstance(value, list) and value:
        rows = []
        for i, v in enumerate(value):
            rows += _flatten(v, f"{prefix}[{i}]")
        return rows
    if isinstance(value, float):
        return [(prefix, f"{value:.4g}")]
    if value in ({}, []):
        return [(prefix, "-")]
    return [(prefix, str(value))]


R = TypeVar("R")


def _estimate(fn: Callable[[M], R], inp: M) -> R:
    """Run a model; an input that validates but cannot be evaluated exits 2, not a traceback."""
    try:
        return fn(inp)
    except (ValueError, ArithmeticError) as exc:
        raise _fail(f"cannot evaluate this input: {type(exc).__name__}: {exc}") from exc


def _emit(result: BaseModel, as_json: bool) -> None:
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    rows = _flatten(result.model_dump(mode="json"))
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        typer.echo(f"{k:<{width}}  {v}")


@app.command()
def training(path: InputFile = None, as_json: JsonFlag = False) -> None:
    """Memory, communication, step time and MFU of a training plan."""
    _emit(_estimate(hw.estimate_training, _read(path, hw.TrainingInput)), as_json)


@app.command()
def serving(path: InputFile = None, as_json: JsonFlag = False) -> None:
    """Weights, KV cache capacity and roofline latencies of a serving replica."""
    _emit(_estimate(hw.estimate_serving, _read(path, hw.ServingInput)), as_json)


@app.command("serving-perf")
def serving_perf(path: InputFile = None, as_json: JsonFlag = False) -> None:
    """Time to first token, inter-token latency and throughput of a serving replica."""
    _emit(_estimate(hw.estimate_serving_perf, _read(path, hw.ServingPerfInput)), as_json)


@app.command()
def collective(path: InputFile = None, as_json: JsonFlag = False) -> None:
    """Time, algbw and busbw of one collective."""
    _emit(_estimate(hw.estimate_collective, _read(path, hw.CollectiveInput)), as_json)


@app.command()
def checkpoint(path: InputFile = None, as_json: JsonFlag = False) -> None:
    """Young and Daly checkpoint intervals and goodput."""
    _emit(_estimate(hw.estimate_checkpoint, _read(path, hw.CheckpointInput)), as_json)


@app.command("search-training")
def search_training(path: InputFile = None, as_json: JsonFlag = False) -> None:
    """Best feasible training plans for a model, cluster and batch, and why others fail."""
    result = _estimate(hw.search_from_input, _read(path, hw.SearchInput))
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    typer.echo(f"evaluated {result.evaluated} plans, {result.feasible_count} feasible")
    typer.echo(f"{'#':>2} {'tp':>3} {'pp':>3} {'cp':>3} {'dp':>5} {'ep':>3} {'etp':>3} "
               f"{'b':>2} {'v':>2} {'zero':>4} {'recompute':>9} {'tokens/s':>12} {'MFU':>6} "
               f"{'mem GiB':>8} {'bubble':>7}")
    for i, r in enumerate(result.feasible, 1):
        p = r.plan
        typer.echo(f"{i:>2} {p.tp:>3} {p.pp:>3} {p.cp:>3} {p.dp:>5} {p.ep:>3} "
                   f"{p.etp or p.tp:>3} {p.micro_batch_size:>2} {p.virtual_stages:>2} "
                   f"{p.zero_stage:>4} {p.recompute:>9} {r.tokens_per_s:>12,.0f} "
                   f"{r.mfu:>6.1%} {r.memory_gib:>8.1f} {r.bubble:>7.1%}")
    if result.rejected:
        typer.echo(f"\nrejected ({len(result.rejected)}):")
        for rej in result.rejected[:20]:
            typer.echo(f"  {rej.plan}: {rej.reason}")
        if len(result.rejected) > 20:
            typer.echo(f"  ... {len(result.rejected) - 20} more (use --json)")


@app.command()
def catalog(as_json: JsonFlag = False) -> None:
    """GPUs, interconnects and model presets known to the models, with sources."""
    data = {
        "gpus": {k: v.model_dump() for k, v in hw.GPUS.items()},
        "links": {k: v.model_dump() for k, v in hw.LINKS.items()},
        "models": {k: v.model_dump() for k, v in hw.MODELS.items()},
    }
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    typer.echo("GPUs (dense TFLOP/s bf16/fp8, memory GiB, HBM GB/s, links):")
    for g in hw.GPUS.values():
        fp8 = g.peak_tflops.get("fp8")
        typer.echo(f"  {g.name:<16} {g.peak('bf16'):>7.1f} / {fp8 or '-':>7}  {g.memory_gib:>7.2f}"
                   f"  {g.memory_bw_gbps:>6.0f}  {g.scale_up_link} + {g.scale_out_link}")
        gemm = " / ".join(f"{g.gemm_efficiency[k]:.0%}" for k in ("bf16", "fp8")
                          if k in g.gemm_efficiency)
        attn = ", ".join(f"{k} {eff:.0%} (half at {s_half:.0f} tokens)"
                         for k, (eff, s_half) in g.attention_efficiency.items())
        typer.echo(f"      model: GEMM {gemm} of peak; fused attention {attn}; "
                   f"{g.compute_units} SMs/CUs; HBM reads {g.hbm_read_efficiency:.0%}; "
                   f"{g.kernel_overhead_us:.2f} us per kernel")
        typer.echo(f"      source: {g.source}")
    typer.echo("Links (GB/s per direction: line, achievable busbw):")
    for lk in hw.LINKS.values():
        typer.echo(f"  {lk.name:<22} {lk.kind:<9} {lk.line_rate_gbps:>6.0f} "
                   f"{lk.achievable_busbw_gbps:>6.0f}")
        typer.echo(f"      source: {lk.source}")
    typer.echo("Models (layers, hidden, heads/kv, ffn, vocab):")
    for p in hw.MODELS.values():
        s = p.spec
        typer.echo(f"  {p.name:<14} {s.num_layers:>4} {s.hidden_size:>6} "
                   f"{s.num_attention_heads:>4}/{s.kv_heads:<4} {s.ffn:>6} {s.vocab_size:>7}")
        typer.echo(f"      source: {p.source}")
