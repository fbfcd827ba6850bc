"""Enumerate parallel plans for a model on a cluster and rank the feasible ones."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from graders.hw.catalog import ModelRef, ModelSpec, get_model
from graders.hw.inputs import MAX_GPUS, MAX_TOKENS, HwInput
from graders.hw.training import ClusterSpec, PlanSpec, TrainingInput, estimate_training
from graders.hw.transformer import Recompute


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


class RankedPlan(BaseModel):
    """A feasible plan with its headline predictions."""

    plan: PlanSpec = Field(description="The plan.")
    tokens_per_s: float = Field(description="Predicted tokens per second.")
    step_time_s: float = Field(description="Predicted step time, s.")
    mfu: float = Field(description="Predicted MFU.")
    memory_gib: float = Field(description="Memory of the most loaded GPU, GiB.")
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
) -> SearchResult:
    """Enumerate tp/pp/cp/dp/ep/micro-batch/interleaving/recompute; rank feasible by tokens/s.

    Rules: tp within a node and dividing the heads; tp*pp*cp*dp = GPUs; layers divisible
    by pp*v; batch divisible by micro-batch*dp; interleaving needs m % pp == 0; MoE only:
    ep divides the experts, etp is tp or 1 (experts folded over the tensor-parallel ranks)
    and ep*etp divides tp*cp*dp. For each layout the fastest fitting choice of ZeRO stage
    (1 or 3) with the least recomputation is kept.
    """
    cl = cluster if isinstance(cluster, ClusterSpec) else ClusterSpec.model_validate(cluster)
    m = get_model(model) if isinstance(model, str) else model
    n = cl.num_gpus
    node = cl.node_size()
    mbs = micro_batch_sizes or [1, 2, 4, 8]
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
            if m.num_layers % pp:
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
                        vs += [v for v in (2, 4, 8) if m.num_layers % (pp * v) == 0
                               and mb % pp == 0]
                    for v in vs:
                        for ep, etp in _expert_layouts(m, tp, cp, dp):
                            ranked, reason, made = _best_recompute(
                                m, cl, tp, pp, dp, cp, (ep, etp), v, b, global_batch_size,
                                seq_len, precision)
                            evaluated += made
                            if ranked is not None:
                                feasible.append(ranked)
                            else:
                                folded = f" etp={etp}" if etp is not None else ""
                                rejected.append(RejectedPlan(
                                    plan=f"tp={tp} pp={pp} cp={cp} dp={dp} ep={ep}{folded} "
                                    f"b={b} v={v}", reason=reason))
    feasible.sort(key=lambda x: -x.tokens_per_s)
    return SearchResult(feasible=feasible[:top], feasible_count=len(feasible),
                        rejected=rejected, evaluated=evaluated)


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
            plan = PlanSpec(tp=tp, pp=pp, dp=dp, cp=cp, ep=experts[0], etp=experts[1],
                            virtual_stages=v,
                            micro_batch_size=b, global_batch_size=global_batch_size,
                            seq_len=seq_len, zero_stage=stage, recompute=rc,
                            sequence_parallel=tp > 1, precision=precision)
            r = estimate_training(TrainingInput.model_construct(model=m, cluster=cl, plan=plan))
            made += 1
            if r.fits:
                if best is None or r.tokens_per_s > best.tokens_per_s:
                    best = RankedPlan(plan=plan, tokens_per_s=r.tokens_per_s,
                                      step_time_s=r.step_time_s, mfu=r.mfu,
                                      memory_gib=r.memory_gib.total,
                                      bubble=r.pipeline_bubble_fraction)
                break
            mem = r.memory_gib
            reason = (f"out of memory even with ZeRO-{stage} and full recompute: "
                      f"{mem.total:.1f} GiB + {mem.reserved:.0f} reserved > {mem.capacity:.0f}")
    return best, ("" if best else reason), made


def search_from_input(inp: SearchInput) -> SearchResult:
    """search_training with the arguments of a SearchInput."""
    return search_training(inp.model, inp.cluster, inp.global_batch_size, inp.seq_len,
                           precision=inp.precision, top=inp.top, max_cp=inp.max_cp,
                           micro_batch_sizes=inp.micro_batch_sizes)
