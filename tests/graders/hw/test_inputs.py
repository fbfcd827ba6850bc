"""Every input model forbids unknown fields and describes each of its fields."""

import pytest
from pydantic import BaseModel

from graders.hw import (
    CheckpointInput,
    ClusterSpec,
    CollectiveInput,
    ModelSpec,
    PlanSpec,
    SearchInput,
    ServingInput,
    TrainingInput,
)

INPUTS = [TrainingInput, ClusterSpec, PlanSpec, ModelSpec, ServingInput, CollectiveInput,
          CheckpointInput, SearchInput]


@pytest.mark.parametrize("model", INPUTS, ids=lambda m: m.__name__)
def test_fields_are_described_and_extra_is_forbidden(model: type[BaseModel]) -> None:
    assert model.model_config.get("extra") == "forbid"
    for name, field in model.model_fields.items():
        assert field.description and field.description.strip(), f"{model.__name__}.{name}"


@pytest.mark.parametrize("model", INPUTS, ids=lambda m: m.__name__)
def test_json_schema_is_generated(model: type[BaseModel]) -> None:
    schema = model.model_json_schema()
    assert schema["type"] == "object"
