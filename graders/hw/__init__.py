"""Hardware models: training, serving, collectives, checkpoints, plan search."""

from graders.hw.catalog import GPU, Link, ModelSpec, get_gpu, get_link, get_model
from graders.hw.collectives import CollectiveInput, CollectiveResult, estimate_collective
from graders.hw.training import TrainingInput, TrainingResult, estimate_training

__all__ = [
    "GPU",
    "CollectiveInput",
    "CollectiveResult",
    "Link",
    "ModelSpec",
    "TrainingInput",
    "TrainingResult",
    "estimate_collective",
    "estimate_training",
    "get_gpu",
    "get_link",
    "get_model",
]
