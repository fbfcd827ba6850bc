"""Integrity signals: similar submissions flagged on both reports with the matching passages;
paste and focus-loss events stored and shown as counts and a timeline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from server.integrity import service as integrity
from server.models import Role
from tests.conftest import World
from tests.grading.factories import make_assessment, make_graded_attempt

AsUser = Callable[[Any], TestClient]

ORIGINAL = '''\
import math


def shard_sizes(total_params, n_gpus, bytes_per_param=2):
    """Split parameters evenly; the last GPU takes the remainder."""
    per_gpu = total_params // n_gpus
    sizes = [per_gpu] * n_gpus
    sizes[-1] += total_params - per_gpu * n_gpus
    return [s * bytes_per_param for s in sizes]


def steps_per_epoch(tokens, batch, seq_len):
    return math.ceil(tokens / (batch * seq_len))
'''

# The same program with every identifier, the comments and the constants changed.
RENAMED = '''\
import math


def split_weights(n, devices, width=4):
    # even split, remainder on the last device
    each = n // devices
    out = [each] * devices
    out[-1] += n - each * devices
    return [w * width for w in out]


def iterations(tok_count, bs, ctx):
    return math.ceil(tok_count / (bs * ctx))
'''

UNRELATED = '''\
import json
import sys


def main(argv):
    with open(argv[1]) as fh:
        data = json.load(fh)
    for key, value in sorted(data.items()):
        if isinstance(value, dict):
            print(key, len(value))
        else:
            print(key, value)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
'''

ESSAY = ("The step time regressed because the all-reduce of gradients no longer overlaps "
         "with the backward pass after the bucket size was lowered to 5 MB, so each of the "
         "eight GPUs on the node waits on NVLink while the compute stream sits idle for "
         "roughly thirty percent of the step.")
ESSAY_COPY = ("I think the step time regressed because the all-reduce of gradients no longer "
              "overlaps with the backward pass after the bucket size was lowered to 5 MB, so "
              "each of the eight GPUs on the node waits on NVLink while compute is idle.")
ESSAY_OTHER = ("Memory is the binding constraint here: activations for a sequence length of "
               "32k at micro-batch four exceed eighty gigabytes unless we checkpoint every "
               "transformer block, which costs a third more compute but keeps us on one node "
               "without tensor parallelism across the slower network fabric.")


def test_renamed_identifiers_still_match_and_unrelated_code_does_not() -> None:
    match = integrity.compare_code(ORIGINAL, RENAMED)
    assert match is not None and match["similarity"] >= 0.8
    assert len(match["passages"]) == 1  # one stretch: the docstring and comment do not split it
    passage = match["passages"][0]
    assert "per_gpu = total_params // n_gpus" in passage["text"]
    assert "each = n // devices" in passage["other_text"]
    assert integrity.compare_code(ORIGINAL, UNRELATED) is None
    assert integrity.compare_code("x = 1\n", "y = 2\n") is None  # too short to say anything


def test_code_that_does_not_tokenize_is_still_compared() -> None:
    broken = ORIGINAL + "\ndef oops(:\n    '''unterminated\n"
    match = integrity.compare_code(broken, RENAMED + "\n\n(((\n")
    assert match is not None


def test_text_shingles_find_the_shared_passage() -> None:
    match = integrity.compare_text(ESSAY, ESSAY_COPY)
    assert match is not None and match["similarity"] >= 0.3
    assert "all reduce of gradients no longer overlaps" in match["passages"][0]["text"]
    assert integrity.compare_text(ESSAY, ESSAY_OTHER) is None


def test_similar_submissions_are_flagged_on_both_reports(
        session: Session, world: World, as_user: AsUser) -> None:
    assessment = make_assessment(session, org=world.org)
    first = make_graded_attempt(
        session, org=world.org, assessment=assessment,
        answers={"s1": {"files": {"solution.py": ORIGINAL}, "text": {"why": ESSAY}}})
    honest = make_graded_attempt(
        session, org=world.org, assessment=assessment,
        answers={"s1": {"files": {"solution.py": UNRELATED}, "text": {"why": ESSAY_OTHER}}})
    # Same content in another organization: never compared across organizations.
    make_graded_attempt(session, org=world.other_org,
                        answers={"s1": {"files": {"solution.py": ORIGINAL}}})
    copier = make_graded_attempt(
        session, org=world.org, assessment=assessment,
        answers={"s1": {"files": {"solution.py": RENAMED}, "text": {"why": ESSAY_COPY}}})
    session.commit()
    c = as_user(world.users[Role.hiring_manager])

    def similar(attempt_id: int) -> list[dict[str, Any]]:
        r = c.get(f"/api/v1/attempts/{attempt_id}/report")
        assert r.status_code == 200
        return r.json()["integrity"]["similar"]  # type: ignore[no-any-return]

    [on_first] = similar(first.id)
    [on_copier] = similar(copier.id)
    assert similar(honest.id) == []
    assert on_first["other_attempt_id"] == copier.id and on_copier["other_attempt_id"] == first.id
    methods = {m["method"]: m for m in on_copier["matches"]}
    assert set(methods) == {"code-winnowing", "text-shingles"}
    code = methods["code-winnowing"]
    assert code["field"] == "files/solution.py"
    assert "each = n // devices" in code["passages"][0]["text"]
    assert "per_gpu = total_params" in code["passages"][0]["other_text"]
    flipped = {m["method"]: m for m in on_first["matches"]}["code-winnowing"]
    assert "per_gpu = total_params" in flipped["passages"][0]["text"]


def test_regrading_does_not_duplicate_similarity_flags(session: Session, world: World) -> None:
    a = make_graded_attempt(session, org=world.org, answers={"s1": {"files": {"m.py": ORIGINAL}}})
    b = make_graded_attempt(session, org=world.org, answers={"s1": {"files": {"m.py": RENAMED}}})
    for _ in range(2):
        integrity.refresh_similarity(session, b)
        integrity.refresh_similarity(session, a)
    session.commit()
    assert len(integrity.summary(session, a.id)["similar"]) == 1
    assert len(integrity.summary(session, b.id)["similar"]) == 1


def test_paste_and_focus_events_are_counted_and_timelined(
        session: Session, world: World, as_user: AsUser) -> None:
    attempt = make_graded_attempt(session, org=world.org)
    integrity.record_integrity_event(session, attempt, "focus_loss", {"scenario_id": "s1",
                                                                      "duration_ms": 4200})
    integrity.record_integrity_event(session, attempt, "paste", {"scenario_id": "s1",
                                                                 "chars": 812, "field": "why",
                                                                 "nested": {"dropped": True}})
    integrity.record_integrity_event(session, attempt, "focus_loss", {})
    session.commit()
    with pytest.raises(integrity.BadEvent):
        integrity.record_integrity_event(session, attempt, "keylog", {})
    body = as_user(world.users[Role.admin]).get(f"/api/v1/attempts/{attempt.id}/report").json()
    assert body["integrity"]["counts"] == {"focus_loss": 2, "paste": 1}
    timeline = body["integrity"]["timeline"]
    assert [e["kind"] for e in timeline] == ["focus_loss", "paste", "focus_loss"]
    assert timeline[1]["data"] == {"scenario_id": "s1", "chars": 812, "field": "why"}
    assert body["score"] == pytest.approx(100 * 14 / 30, abs=1e-3)  # informs, never scores
