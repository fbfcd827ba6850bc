"""Typed factory for scenario folders used by the tests (writes real files)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

MARKER = "ZZHIDDEN7731"  # planted in every hidden place of the factory scenario

MANIFEST = """\
id: {id}
version: 1
title: Test scenario {id}
summary: A small scenario the tests build to exercise the loader.
kind: debug
dimensions: [debugging]
stack_layers: [compute]
difficulty: mid
time_estimate_min: 30
generator: generate.py
parameters:
  - name: nodes
    type: integer
    min: 4
    max: 64
    step: 4
  - name: gpu
    type: choice
    choices: [A100, H100, H200]
  - name: secret_cause
    type: choice
    hidden: true
    choices: [{marker}_a, {marker}_b]
  - name: secret_gen
    type: generated
    value_type: string
    hidden: true
answer:
  fields:
    - id: cause
      type: choice
      label: Cause
      choices:
        - {{value: a, label: A}}
        - {{value: b, label: B}}
    - id: notes
      type: long_text
      label: Notes
      sections:
        - {{id: evidence, title: Evidence}}
    - id: code
      type: code
      label: Code
      files: [solution.py]
artifacts:
  - path: logs/*.log
    description: Per-node logs.
starter:
  - path: solution.py
    description: Start here.
"""

RUBRIC = """\
answer_key: checks/key.py
criteria:
  - id: cause
    title: Names the cause
    dimension: debugging
    points: 10
    check:
      kind: field
      field: cause
      expected: {{param: secret_cause}}
  - id: evidence
    title: Quotes evidence
    dimension: communication
    points: 5
    check:
      kind: concepts
      field: notes
      section: evidence
      concepts:
        - id: c1
          phrasings: ["{marker} phrase"]
  - id: review
    title: Overall
    dimension: communication
    points: 5
    check: {{kind: manual, fields: [notes]}}
    levels:
      - {{score: 0, label: weak, descriptor: "{marker} weak"}}
      - {{score: 1, label: strong, descriptor: "{marker} strong"}}
"""

GENERATE = """\
import random

def generate(seed, params):
    rng = random.Random(seed)
    secret = "{marker}_gen_%d" % rng.randrange(1000)
    logs = {{}}
    for n in range(params["nodes"]):
        logs["logs/node%03d.log" % n] = "step_ms=%d\\n" % rng.randrange(900, 1100)
    return {{"params": {{"secret_gen": secret}}, "artifacts": logs}}
"""

PROMPT = """\
# Slow run on {{ nodes }} nodes of {{ gpu }}

Look at the logs. <script>alert(1)</script>
"""


def _cal(sid: str, role: str, answers: dict, lo: float, hi: float) -> str:
    return json.dumps({"scenario": sid, "seed": 1, "role": role, "answers": answers,
                       "band": {"min": lo, "max": hi}})


def make_scenario(root: Path, *, id: str = "test-scenario", folder: str | None = None,
                  manifest: str | None = None, rubric: str | None = None,
                  prompt: str | None = None, generate: str | None = None) -> Path:
    d = root / (folder or id.replace("-", "_"))
    (d / "checks").mkdir(parents=True, exist_ok=True)
    (d / "starter").mkdir(exist_ok=True)
    (d / "calibration").mkdir(exist_ok=True)
    (d / "scenario.yaml").write_text(manifest if manifest is not None else
                                     MANIFEST.format(id=id, marker=MARKER))
    (d / "rubric.yaml").write_text(rubric if rubric is not None else RUBRIC.format(marker=MARKER))
    (d / "prompt.md").write_text(prompt if prompt is not None else PROMPT)
    (d / "generate.py").write_text(generate if generate is not None else
                                   GENERATE.format(marker=MARKER))
    (d / "starter" / "solution.py").write_text("def solve():\n    return None\n")
    (d / "checks" / "key.py").write_text(f"ANSWER = '{MARKER}'\n"
                                         "def answer_key(params):\n    return {}\n")
    (d / "checks" / "solver.py").write_text(textwrap.dedent(f"""\
        # {MARKER}
        def solve(artifacts):
            return {{}}
        """))
    cals = {
        "reference": ({"cause": "a", "notes": {"evidence": f"{MARKER} phrase"}}, 90, 100),
        "empty": ({}, 0, 5),
        "wrong": ({"cause": "b"}, 0, 40),
        "keyword_stuffed": ({"notes": "gpu nccl"}, 0, 35),
    }
    for role, (answers, lo, hi) in cals.items():
        (d / "calibration" / f"{role}.json").write_text(_cal(id, role, answers, lo, hi))
    return d


def graded(scenario: Any, variant: Any, answer: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The engine's report of answer, and its criteria by id."""
    from graders.engine import grade_scenario

    report = grade_scenario(scenario.rubric, answer, variant, load_check=scenario.load_check)
    return report, {c.criterion_id: c for c in report.criteria}
