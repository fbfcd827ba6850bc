"""Hardware models: training, serving, collectives, checkpoints, plan search."""

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
from graders.hw.training import (
    ClusterSpec,
    PlanSpec,
    TrainingInput,
    TrainingResult,
    estimate_training,
)

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
    "ServingResult",
    "TrainingInput",
    "TrainingResult",
    "estimate_checkpoint",
    "estimate_collective",
    "estimate_serving",
    "estimate_training",
    "get_gpu",
    "get_link",
    "get_model",
    "search_from_input",
    "search_training",
]
