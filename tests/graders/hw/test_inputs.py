"""Every input model forbids unknown fields and describes each of its fields."""

import pytest
from pydantic import BaseModel, ValidationError

from graders.hw import (
    CheckpointInput,
    ClusterSpec,
    CollectiveInput,
    ModelSpec,
    PlanSpec,
    SearchInput,
    ServingInput,
    ServingPerfInput,
    TrainingInput,
)

INPUTS = [TrainingInput, ClusterSpec, PlanSpec, ModelSpec, ServingInput, CollectiveInput,
          CheckpointInput, SearchInput, ServingPerfInput]


@pytest.mark.parametrize("model", INPUTS, ids=lambda m: m.__name__)
def test_fields_are_described_and_extra_is_forbidden(model: type[BaseModel]) -> None:
    assert model.model_config.get("extra") == "forbid"
    for name, field in model.model_fields.items():
        assert field.description and field.description.strip(), f"{model.__name__}.{name}"


@pytest.mark.parametrize("model", INPUTS, ids=lambda m: m.__name__)
def test_json_schema_is_generated(model: type[BaseModel]) -> None:
    schema = model.model_json_schema()
    assert schema["type"] == "object"


def _training(**plan: object) -> dict[str, object]:
    return {"model": "llama3-8b", "cluster": {"gpu": "H100", "num_gpus": 8},
            "plan": {"tp": 8, "global_batch_size": 8, "seq_len": 4096, **plan}}


@pytest.mark.parametrize(
    ("plan", "message"),
    [({"tp": True}, "not true/false"), ({"seq_len": 10**12}, "less than or equal to"),
     ({"global_batch_size": float("inf")}, "finite"), ({"seq_len": 1e300}, "finite number")],
)
def test_absurd_plan_numbers_are_refused_at_their_field(plan: dict[str, object],
                                                        message: str) -> None:
    with pytest.raises(ValidationError) as exc:
        TrainingInput.model_validate(_training(**plan))
    field = next(iter(plan))
    errors = [e for e in exc.value.errors() if e["loc"][-1] == field]
    assert errors and message in errors[0]["msg"]


def test_infinite_memory_does_not_make_everything_fit() -> None:
    doc = _training()
    doc["cluster"] = {"gpu": "H100", "num_gpus": 8, "memory_gib": float("inf")}
    with pytest.raises(ValidationError, match="finite"):
        TrainingInput.model_validate(doc)


def test_model_widths_are_bounded() -> None:
    shape = {"num_layers": 2, "num_attention_heads": 1, "vocab_size": 10}
    with pytest.raises(ValidationError, match="hidden_size"):
        ModelSpec.model_validate({**shape, "hidden_size": 10**300})
    with pytest.raises(ValidationError, match="not true/false"):
        ModelSpec.model_validate({**shape, "hidden_size": 64, "num_layers": True})
    # Booleans stay booleans where a flag belongs.
    assert ModelSpec.model_validate({**shape, "hidden_size": 64, "gated_mlp": True}).gated_mlp


def test_plain_numbers_still_validate() -> None:
    inp = TrainingInput.model_validate(_training(seq_len=131072, micro_batch_size=1))
    assert inp.plan.seq_len == 131072
    assert CollectiveInput.model_validate({"op": "all_reduce", "bytes": 2**40, "ranks": 8,
                                           "bandwidth_gbps": 370.0})


@pytest.mark.parametrize(("field", "value", "message"),
                         [("batch_size", True, "not true/false"),
                          ("prompt_len", 10**12, "less than or equal to"),
                          ("output_len", 1e300, "finite number")])
def test_absurd_serving_numbers_are_refused_at_their_field(field: str, value: object,
                                                           message: str) -> None:
    doc = {"model": "llama3-8b", "gpu": "H100", "prompt_len": 128, "output_len": 128,
           field: value}
    with pytest.raises(ValidationError) as exc:
        ServingPerfInput.model_validate(doc)
    errors = [e for e in exc.value.errors() if e["loc"][-1] == field]
    assert errors and message in errors[0]["msg"]
