"""Hardware models: training, serving, collectives, checkpoints, plan search.

Names load on first use (PEP 562), so `burnin hw collective` does not build the training,
search and serving models it never calls.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from graders.hw.catalog import (
        GPU,
        GPUS,
        LINKS,
        MODELS,
        Link,
        ModelPreset,
        ModelSpec,
        get_gpu,
        get_link,
        get_model,
    )
    from graders.hw.checkpoint import CheckpointInput, CheckpointResult, estimate_checkpoint
    from graders.hw.collectives import CollectiveInput, CollectiveResult, estimate_collective
    from graders.hw.problem import Problem
    from graders.hw.search import SearchInput, SearchResult, search_from_input, search_training
    from graders.hw.serving import ServingInput, ServingResult, estimate_serving
    from graders.hw.serving_perf import (
        ServingPerfInput,
        ServingPerfResult,
        estimate_serving_perf,
    )
    from graders.hw.training import (
        ClusterSpec,
        PlanSpec,
        TrainingInput,
        TrainingResult,
        estimate_training,
    )

_WHERE = {
    **dict.fromkeys(["GPU", "GPUS", "LINKS", "MODELS", "Link", "ModelPreset", "ModelSpec",
                     "get_gpu", "get_link", "get_model"], "catalog"),
    **dict.fromkeys(["CheckpointInput", "CheckpointResult", "estimate_checkpoint"],
                    "checkpoint"),
    **dict.fromkeys(["CollectiveInput", "CollectiveResult", "estimate_collective"],
                    "collectives"),
    "Problem": "problem",
    **dict.fromkeys(["SearchInput", "SearchResult", "search_from_input", "search_training"],
                    "search"),
    **dict.fromkeys(["ServingInput", "ServingResult", "estimate_serving"], "serving"),
    **dict.fromkeys(["ServingPerfInput", "ServingPerfResult", "estimate_serving_perf"],
                    "serving_perf"),
    **dict.fromkeys(["ClusterSpec", "PlanSpec", "TrainingInput", "TrainingResult",
                     "estimate_training"], "training"),
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'graders.hw' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"graders.hw.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "GPU",
    "GPUS",
    "LINKS",
    "MODELS",
    "CheckpointInput",
    "CheckpointResult",
    "ClusterSpec",
    "CollectiveInput",
    "CollectiveResult",
    "Link",
    "ModelPreset",
    "ModelSpec",
    "PlanSpec",
    "Problem",
    "SearchInput",
    "SearchResult",
    "ServingInput",
    "ServingPerfInput",
    "ServingPerfResult",
    "ServingResult",
    "TrainingInput",
    "TrainingResult",
    "estimate_checkpoint",
    "estimate_collective",
    "estimate_serving",
    "estimate_serving_perf",
    "estimate_training",
    "get_gpu",
    "get_link",
    "get_model",
    "search_from_input",
    "search_training",
]
