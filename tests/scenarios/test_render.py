from __future__ import annotations

import json
from pathlib import Path

import pytest

from scenarios.loader import load_bank
from scenarios.render import RenderError, draw_params
from tests.scenarios.factory import MARKER, make_scenario


@pytest.fixture
def scenario(tmp_path: Path):  # type: ignore[no-untyped-def]
    make_scenario(tmp_path)
    return load_bank(tmp_path).get("test-scenario")


def test_same_seed_gives_identical_variant_and_seeds_differ(scenario) -> None:  # type: ignore[no-untyped-def]
    a, b = scenario.render(5), scenario.render(5)
    assert a.params == b.params and a.artifacts == b.artifacts
    others = [scenario.render(s) for s in range(6, 16)]
    assert any(o.artifacts != a.artifacts for o in others)
    assert any(o.params["nodes"] != a.params["nodes"] for o in others)


def test_drawn_params_respect_declared_ranges(scenario) -> None:  # type: ignore[no-untyped-def]
    seen = set()
    for seed in range(200):
        p = draw_params(scenario, seed)
        assert 4 <= p["nodes"] <= 64 and p["nodes"] % 4 == 0
        assert p["gpu"] in {"A100", "H100", "H200"}
        seen.add(p["gpu"])
    assert seen == {"A100", "H100", "H200"}


def _all_text(view_dict: dict) -> str:  # type: ignore[type-arg]
    return json.dumps(view_dict, default=lambda b: b.decode("utf-8", "replace"))


def test_candidate_view_never_contains_hidden_material(scenario) -> None:  # type: ignore[no-untyped-def]
    for seed in range(10):
        variant = scenario.render(seed)
        # the marker really is in the hidden parameters of this variant ...
        assert MARKER in variant.params["secret_cause"]
        assert MARKER in variant.params["secret_gen"]
        view = scenario.candidate_view(seed)
        # ... and nowhere in what the candidate gets
        assert MARKER not in _all_text(view.model_dump())
        assert "secret_cause" not in _all_text(view.model_dump())


def test_prompt_rendered_with_visible_params_and_sanitized(scenario) -> None:  # type: ignore[no-untyped-def]
    view = scenario.candidate_view(3)
    p = scenario.render(3).params
    assert f"Slow run on {p['nodes']} nodes of {p['gpu']}" in view.prompt_markdown
    assert "<h1>" in view.prompt_html
    assert "<script>" not in view.prompt_html


def test_prompt_naming_a_hidden_parameter_fails_instead_of_leaking(tmp_path: Path) -> None:
    d = make_scenario(tmp_path)
    s = load_bank(tmp_path).get("test-scenario")
    # validate rejects such a prompt; this is the second line of defence at render time
    (d / "prompt.md").write_text("Cause: {{ secret_cause }}\n")
    with pytest.raises(RenderError, match="secret_cause"):
        s.candidate_view(0)


def test_sandboxed_template_cannot_reach_python_internals(tmp_path: Path) -> None:
    make_scenario(tmp_path, prompt="{{ nodes.__class__.__mro__[1].__subclasses__() }}\n")
    s = load_bank(tmp_path).get("test-scenario")
    with pytest.raises(RenderError):
        s.candidate_view(0)


def test_view_write_outputs_exact_layout(scenario, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    view = scenario.candidate_view(2)
    view.write(out)
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    expected = sorted(["prompt.md", "prompt.html", "form.json", "starter/solution.py"]
                      + [f"artifacts/{k}" for k in view.artifacts])
    assert files == expected
    form = json.loads((out / "form.json").read_text())
    assert [f["id"] for f in form["fields"]] == ["cause", "notes", "code"]
    for p in out.rglob("*"):
        if p.is_file():
            assert MARKER not in p.read_text()


def test_concurrent_renders_of_one_scenario_agree(scenario) -> None:  # type: ignore[no-untyped-def]
    from concurrent.futures import ThreadPoolExecutor

    expected = {seed: scenario.render(seed).artifacts for seed in range(8)}
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda s: (s, scenario.render(s).artifacts), list(range(8)) * 4))
    assert all(artifacts == expected[seed] for seed, artifacts in got)
