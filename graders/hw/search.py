"""Enumerate parallel plans for a model on a cluster and rank the feasible ones."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from graders.hw.catalog import ModelRef, ModelSpec, get_model
from graders.hw.inputs import MAX_GPUS, MAX_TOKENS, HwInput
from graders.hw.training import (
    PRODUCTION_HEADROOM_FRACTION,
    ClusterSpec,
    PlanSpec,
    TrainingInput,
    estimate_training,
)
from graders.hw.transformer import Recompute

# Band of equally good plans: two plans closer than the model's error cannot be ranked.
# Dense: the worst dense error on published rows is ~20% (median ~7%), and 20% is where the
# plan check gave full credit before the band existed (80% of the best). MoE (after the host
# stall and small-expert GEMM terms, on published Megatron-Core rows not used to set any
# term: median +20%, worst +132%, still optimistic) and ZeRO-3 beyond 64-way sharding
# (Narayanan et al. 2021 Table 2's DeepSpeed ZeRO-3 rows: +23% to +68%, docs/hw.md) get 35%
# and are reported as low confidence.
BAND_TOLERANCE = 0.20
WIDE_BAND_TOLERANCE = 0.35
ZERO3_AT_SCALE = 64  # dp*cp sharding degree past which ZeRO-3 plans are low confidence


class SearchInput(HwInput):
    """What `burnin hw search-training` reads."""

    model_config = ConfigDict(extra="forbid")

    model: ModelRef = Field(description="Model preset name or an architecture.")
    cluster: ClusterSpec = Field(description="The GPUs.")
    global_batch_size: int = Field(ge=1, le=MAX_GPUS * 16, description="Sequences per optimizer step.")
    seq_len: int = Field(ge=1, le=MAX_TOKENS, description="Tokens per sequence.")
    precision: Literal["bf16", "fp16", "fp8"] = Field(default="bf16", description="GEMM precision.")
    top: int = Field(default=10, ge=1, description="How many feasible plans to return.")
    max_cp: int = Field(default=8, ge=1, description="Largest context-parallel degree tried.")
    micro_batch_sizes: list[Annotated[int, Field(ge=1)]] = Field(
        default=[1, 2, 4, 8], min_length=1, description="Micro-batch sizes tried."
    )
    headroom_fraction: float = Field(
        default=PRODUCTION_HEADROOM_FRACTION, ge=0, le=0.5,
        description="Share of GPU memory a ranked plan leaves free beyond the fixed reserve "
        "(allocator fragmentation, peaks); 0 ranks every plan that fits at all.",
    )
    uneven_pipeline: bool = Field(
        default=False, description="Also try pipeline depths that do not divide the layers "
        "(the slowest stage holds ceil(layers / pp), as Llama 3 405B's 126 layers on 16 "
        "stages); off by default because many stacks need even stages.",
    )


class RankedPlan(BaseModel):
    """A feasible plan with its headline predictions."""

    plan: PlanSpec = Field(description="The plan.")
    tokens_per_s: float = Field(description="Predicted tokens per second.")
    step_time_s: float = Field(description="Predicted step time, s.")
    mfu: float = Field(description="Predicted MFU.")
    memory_gib: float = Field(description="Memory of the most loaded GPU, GiB.")
    headroom_gib: float = Field(0.0, description="Memory left free beyond the fixed reserve.")
    bubble: float = Field(description="Pipeline bubble fraction.")


class RejectedPlan(BaseModel):
    """A plan that cannot run, and why."""

    plan: str = Field(description="Compact description: tp/pp/dp/cp/b/v/recompute.")
    reason: str = Field(description="Why it was rejected.")


class SearchResult(BaseModel):
    """Ranked feasible plans and the rejected ones with reasons."""

    feasible: list[RankedPlan] = Field(description="Best first, at most `top`.")
    feasible_count: int = Field(description="All feasible plans found.")
    rejected: list[RejectedPlan] = Field(description="Rejected plans with reasons.")
    evaluated: int = Field(description="Plans estimated with the training model.")
    headroom_fraction: float = Field(
        0.0, description="Share of GPU memory every ranked plan leaves free (production).")
    band_tolerance: float = Field(
        BAND_TOLERANCE, description="Plans within this share of the best are equally good: "
        "the model cannot rank them apart.")
    band_count: int = Field(0, description="Feasible plans within band_tolerance of the best.")
    confidence: Literal["high", "low"] = Field(
        "high", description="low: the model's error on this kind of job (MoE, ZeRO-3 at "
        "scale) is larger than the dense band, so the band is wider.")
    confidence_note: str = Field("", description="Why the confidence is low, for reports.")

    def band_floor(self) -> float | None:
        """Tokens/s a plan needs to count as inside the band (None: nothing feasible)."""
        if not self.feasible:
            return None
        return self.feasible[0].tokens_per_s * (1.0 - self.band_tolerance)


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def _powers_of_two_upto(n: int) -> list[int]:
    out, v = [], 1
    while v <= n:
        out.append(v)
        v *= 2
    return out


def search_training(
    model: str | ModelSpec,
    cluster: ClusterSpec | dict[str, Any],
    global_batch_size: int,
    seq_len: int,
    *,
    precision: Literal["bf16", "fp16", "fp8"] = "bf16",
    top: int = 10,
    max_cp: int = 8,
    micro_batch_sizes: list[int] | None = None,
    headroom_fraction: float = PRODUCTION_HEADROOM_FRACTION,
    uneven_pipeline: bool = False,
    plan_options: dict[str, Any] | None = None,
) -> SearchResult:
    """Enumerate tp/pp/cp/dp/ep/micro-batch/interleaving/recompute; rank feasible by tokens/s.

    Rules: tp within a node and dividing the heads; tp*pp*cp*dp = GPUs; layers divisible
    by pp*v (with `uneven_pipeline`, pp*v at most the layers: the slowest stage holds
    ceil(layers / pp)); batch divisible by micro-batch*dp; interleaving needs m % pp == 0; MoE only:
    ep divides the experts, etp is tp or 1 (experts folded over the tensor-parallel ranks)
    and ep*etp divides tp*cp*dp. For each layout the fastest fitting choice of ZeRO stage
    (1 or 3) with the least recomputation is kept. Every ranked plan leaves
    `headroom_fraction` of GPU memory free beyond the fixed reserve (production headroom; 0
    ranks every plan that fits at all), and the result states the band of plans within
    `band_tolerance` of the best. `plan_options` are PlanSpec fields every plan takes (e.g.
    the overlap switches a published run used); by default none, as a candidate's plan is
    evaluated.
    """
    cl = cluster if isinstance(cluster, ClusterSpec) else ClusterSpec.model_validate(cluster)
    m = get_model(model) if isinstance(model, str) else model
    n = cl.num_gpus
    node = cl.node_size()
    mbs = micro_batch_sizes or [1, 2, 4, 8]
    options = dict(plan_options or {})
    if options:  # refuse unknown fields or values before enumerating
        PlanSpec.model_validate({"tp": 1, "pp": 1, "dp": 1, "global_batch_size": 1,
                                 "seq_len": 2, **options})
    feasible: list[RankedPlan] = []
    rejected: list[RejectedPlan] = []
    evaluated = 0

    for tp in _powers_of_two_upto(min(node, n)):
        if n % tp:
            continue
        if m.num_attention_heads % tp:
            rejected.append(RejectedPlan(plan=f"tp={tp}", reason=f"tp does not divide "
                                         f"{m.num_attention_heads} heads"))
            continue
        for pp in _divisors(n // tp):
            if pp > m.num_layers:
                break
            if m.num_layers % pp and not uneven_pipeline:
                rejected.append(RejectedPlan(plan=f"tp={tp} pp={pp}", reason=f"pp does not "
                                             f"divide {m.num_layers} layers"))
                continue
            for cp in _powers_of_two_upto(max_cp):
                if (n // tp // pp) % cp:
                    continue
                dp = n // (tp * pp * cp)
                if cp > 1 and seq_len % (2 * cp):
                    rejected.append(RejectedPlan(plan=f"tp={tp} pp={pp} cp={cp}",
                                                 reason="seq_len not divisible by 2*cp"))
                    continue
                for b in mbs:
                    if global_batch_size % (b * dp):
                        rejected.append(RejectedPlan(
                            plan=f"tp={tp} pp={pp} cp={cp} dp={dp} b={b}",
                            reason=f"global batch {global_batch_size} not divisible by b*dp"))
                        continue
                    mb = global_batch_size // (b * dp)
                    vs = [1]
                    if pp > 1:
                        vs += [v for v in (2, 4, 8) if mb % pp == 0 and (
                            m.num_layers % (pp * v) == 0
                            or (uneven_pipeline and pp * v <= m.num_layers))]
                    for v in vs:
                        for ep, etp in _expert_layouts(m, tp, cp, dp):
                            ranked, reason, made = _best_recompute(
                                m, cl, tp, pp, dp, cp, (ep, etp), v, b, global_batch_size,
                                seq_len, precision, headroom_fraction, options)
                            evaluated += made
                            if ranked is not None:
                                feasible.append(ranked)
                            else:
                                folded = f" etp={etp}" if etp is not None else ""
                                rejected.append(RejectedPlan(
                                    plan=f"tp={tp} pp={pp} cp={cp} dp={dp} ep={ep}{folded} "
                                    f"b={b} v={v}", reason=reason))
    feasible.sort(key=lambda x: -x.tokens_per_s)
    note = low_confidence_note(m, feasible[0].plan if feasible else None)
    tol = WIDE_BAND_TOLERANCE if note else BAND_TOLERANCE
    floor = feasible[0].tokens_per_s * (1 - tol) if feasible else 0.0
    return SearchResult(feasible=feasible[:top], feasible_count=len(feasible),
                        rejected=rejected, evaluated=evaluated,
                        headroom_fraction=headroom_fraction, band_tolerance=tol,
                        band_count=sum(1 for r in feasible if r.tokens_per_s >= floor),
                        confidence="low" if note else "high", confidence_note=note)


def low_confidence_note(m: ModelSpec, plan: PlanSpec | None) -> str:
    """Why plans for this job cannot be ranked with the dense band ('' when they can)."""
    if m.num_experts > 1:
        return ("mixture-of-experts: the model over-predicts published MoE runs it was not "
                f"tuned on (median +20%, worst +132%), so plans within "
                f"{WIDE_BAND_TOLERANCE:.0%} of the best count "
                "as equally good")
    if plan is not None and plan.zero_stage == 3 and plan.dp * plan.cp > ZERO3_AT_SCALE:
        return (f"ZeRO-3 sharded over more than {ZERO3_AT_SCALE} ranks: published ZeRO-3 "
                "runs at this scale are slower than the model (+23% to +68%), so plans within "
                f"{WIDE_BAND_TOLERANCE:.0%} of the best count as equally good")
    return ""


def _expert_layouts(m: ModelSpec, tp: int, cp: int, dp: int) -> list[tuple[int, int | None]]:
    """(ep, etp) pairs for a MoE model: etp None (= tp) or 1, ep a power of two dividing the
    experts with ep*etp dividing the stage's tp*cp*dp ranks. Dense models: [(1, None)]."""
    if m.num_experts == 1:
        return [(1, None)]
    ranks = tp * cp * dp
    out: list[tuple[int, int | None]] = []
    for etp in ([None, 1] if tp > 1 else [None]):
        width = etp or tp
        out += [(e, etp) for e in _powers_of_two_upto(min(ranks // width, m.num_experts))
                if ranks % (e * width) == 0 and m.num_experts % e == 0]
    return out


def _best_recompute(
    m: ModelSpec, cl: ClusterSpec, tp: int, pp: int, dp: int, cp: int,
    experts: tuple[int, int | None], v: int,
    b: int, global_batch_size: int, seq_len: int, precision: Literal["bf16", "fp16", "fp8"],
    headroom_fraction: float, options: dict[str, Any],
) -> tuple[RankedPlan | None, str, int]:
    """Fastest fitting memory option: (ranked plan or None, reason, estimates made).

    Per ZeRO stage (1 = distributed optimizer, 3 = fully sharded; 3 only with dp*cp > 1)
    the least recomputation that fits is taken, then the faster of the two stages.
    """
    recomputes: list[Recompute] = ["none", "selective", "full"]
    stages = [1, 3] if dp * cp > 1 else [1]
    best: RankedPlan | None = None
    made = 0
    reason = ""
    for stage in stages:
        for rc in recomputes:
            # Built from values the enumeration already checked: no validation needed.
            plan = PlanSpec.model_construct(
                tp=tp, pp=pp, dp=dp, cp=cp, ep=experts[0], etp=experts[1], virtual_stages=v,
                micro_batch_size=b, global_batch_size=global_batch_size, seq_len=seq_len,
                zero_stage=stage, recompute=rc, sequence_parallel=tp > 1, precision=precision,
                **options)
            r = estimate_training(TrainingInput.model_construct(model=m, cluster=cl, plan=plan))
            made += 1
            mem = r.memory_gib
            needed = headroom_fraction * mem.capacity
            if r.fits and mem.headroom >= needed:
                if best is None or r.tokens_per_s > best.tokens_per_s:
                    best = RankedPlan(plan=plan, tokens_per_s=r.tokens_per_s,
                                      step_time_s=r.step_time_s, mfu=r.mfu,
                                      memory_gib=mem.total, headroom_gib=mem.headroom,
                                      bubble=r.pipeline_bubble_fraction)
                break
            if r.fits:
                reason = (f"leaves {mem.headroom:.1f} GiB free even with ZeRO-{stage} and full "
                          f"recompute; production keeps {needed:.1f} GiB")
            else:
                reason = (f"out of memory even with ZeRO-{stage} and full recompute: "
                          f"{mem.total:.1f} GiB + {mem.reserved:.0f} reserved > "
                          f"{mem.capacity:.0f}")
    return best, ("" if best else reason), made


def search_from_input(inp: SearchInput) -> SearchResult:
    """search_training with the arguments of a SearchInput."""
    return search_training(inp.model, inp.cluster, inp.global_batch_size, inp.seq_len,
                           precision=inp.precision, top=inp.top, max_cp=inp.max_cp,
                           micro_batch_sizes=inp.micro_batch_sizes,
                           headroom_fraction=inp.headroom_fraction,
                           uneven_pipeline=inp.uneven_pipeline)
