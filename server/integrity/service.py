"""Integrity signals: paste and focus-loss events from the candidate's page, and similarity
between submissions to the same scenario within an organization. They inform; never score.

Code is compared by winnowed fingerprints of its token stream with identifiers, numbers and
strings replaced by placeholders, so renaming variables does not hide a copy (after MOSS,
Schleimer et al. 2003). Text is compared by word 5-shingles and Jaccard similarity."""

from __future__ import annotations

import hashlib
import io
import keyword
import logging
import re
import tokenize
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from server.db import transaction
from server.integrity import repository as repo
from server.integrity.errors import BadEvent
from server.models import Attempt, IntegritySignal, utcnow

log = logging.getLogger("burnin.integrity")

EVENT_KINDS = frozenset({"paste", "copy", "focus_loss", "focus_gain"})
CODE_K, CODE_W = 5, 4  # token k-grams, winnowing window
TEXT_K = 5
CODE_THRESHOLD = 0.5
TEXT_THRESHOLD = 0.3
MIN_CODE_TOKENS = 30
MIN_TEXT_WORDS = 25
MAX_PASSAGES = 5


def record_integrity_event(session: Session, attempt: Attempt, kind: str,
                           data: dict[str, Any]) -> IntegritySignal:
    """Store one event the candidate's page reported (paste, copy, focus_loss, focus_gain)."""
    if kind not in EVENT_KINDS:
        raise BadEvent(f"unknown event kind {kind!r}; use one of {sorted(EVENT_KINDS)}")
    clean = {k: v for k, v in data.items() if isinstance(v, (str, int, float, bool))}
    for k, v in clean.items():
        if isinstance(v, str):
            clean[k] = v[:500]
    signal = IntegritySignal(attempt_id=attempt.id, scenario_id=str(data.get("scenario_id")
                                                                     or "")[:100] or None,
                             kind=kind, data=clean, at=utcnow())
    repo.add_signal(session, signal)
    return signal


# --- fingerprints ------------------------------------------------------------------------

@dataclass(frozen=True)
class Print:
    hash: int
    start: int  # line (code) or word index (text) where the k-gram starts
    end: int


def _h(parts: tuple[str, ...]) -> int:
    return int.from_bytes(hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest(),
                          "big")


STATEMENT_START = (tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT,
                   tokenize.ENCODING, tokenize.COMMENT)


def code_tokens(source: str) -> list[tuple[str, int]]:
    """Normalized tokens with their line: names -> V, numbers -> N, strings -> S; comments
    and layout dropped. Falls back to a regex split for code that does not tokenize."""
    out: list[tuple[str, int]] = []
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENCODING, tokenize.ENDMARKER}
    try:
        raw = list(tokenize.generate_tokens(io.StringIO(source).readline))
        for i, tok in enumerate(raw):
            if tok.type in skip:
                continue
            if (tok.type == tokenize.STRING and (i == 0 or raw[i - 1].type in STATEMENT_START)
                    and i + 1 < len(raw) and raw[i + 1].type in (tokenize.NEWLINE,
                                                                 tokenize.ENDMARKER)):
                continue  # a docstring: prose, like a comment
            if tok.type == tokenize.NAME:
                text = tok.string if keyword.iskeyword(tok.string) else "V"
            elif tok.type == tokenize.NUMBER:
                text = "N"
            elif tok.type == tokenize.STRING:
                text = "S"
            else:
                text = tok.string
            out.append((text, tok.start[0]))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        out = []
        for lineno, line in enumerate(source.splitlines(), 1):
            for t in re.findall(r"[A-Za-z_]\w*|\d+(?:\.\d+)?|\S", line):
                out.append(("V" if t[0].isalpha() or t[0] == "_" else
                            "N" if t[0].isdigit() else t, lineno))
    return out


def winnow(grams: list[Print], w: int) -> set[Print]:
    if len(grams) <= w:
        return set(grams)
    picked: set[Print] = set()
    for i in range(len(grams) - w + 1):
        window = grams[i:i + w]
        picked.add(min(window, key=lambda p: (p.hash, -p.start)))
    return picked


# Storing one report compares its answer with every other answer to the scenario, so the
# same texts are fingerprinted again and again: keep the last few thousand (immutable).
@lru_cache(maxsize=4096)
def _code_fingerprint(source: str) -> tuple[int, tuple[Print, ...]]:
    """(token count, winnowed prints in order of their line) of one piece of code."""
    toks = code_tokens(source)
    grams = [Print(_h(tuple(t for t, _ in toks[i:i + CODE_K])), toks[i][1],
                   toks[i + CODE_K - 1][1]) for i in range(len(toks) - CODE_K + 1)]
    return len(toks), tuple(sorted(winnow(grams, CODE_W), key=lambda p: p.start))


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.lower())


@lru_cache(maxsize=4096)
def _text_fingerprint(text: str) -> tuple[tuple[str, ...], tuple[Print, ...]]:
    """(words, word 5-shingle prints) of one piece of prose."""
    ws = words(text)
    return tuple(ws), tuple(Print(_h(tuple(ws[i:i + TEXT_K])), i, i + TEXT_K - 1)
                            for i in range(len(ws) - TEXT_K + 1))


def _jaccard(a: Sequence[Print], b: Sequence[Print]) -> float:
    ha, hb = {p.hash for p in a}, {p.hash for p in b}
    return len(ha & hb) / len(ha | hb) if ha and hb else 0.0


def _ranges(spans: list[tuple[int, int]], gap: int) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1] + gap:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def _matching(a: Sequence[Print], b: Sequence[Print]) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    common = {p.hash for p in a} & {p.hash for p in b}
    return ([(p.start, p.end) for p in a if p.hash in common],
            [(p.start, p.end) for p in b if p.hash in common])


def compare_code(a: str, b: str) -> dict[str, Any] | None:
    (na, pa), (nb, pb) = _code_fingerprint(a), _code_fingerprint(b)
    if min(na, nb) < MIN_CODE_TOKENS:
        return None
    score = _jaccard(pa, pb)
    if score < CODE_THRESHOLD:
        return None
    ra, rb = _matching(pa, pb)
    la, lb = a.splitlines(), b.splitlines()
    passages = []
    for (sa, ea), (sb, eb) in zip(_ranges(ra, 1), _ranges(rb, 1), strict=False):
        passages.append({"lines": [sa, ea], "other_lines": [sb, eb],
                         "text": "\n".join(la[sa - 1:ea])[:1500],
                         "other_text": "\n".join(lb[sb - 1:eb])[:1500]})
    return {"method": "code-winnowing", "similarity": round(score, 3),
            "passages": passages[:MAX_PASSAGES]}


def compare_text(a: str, b: str) -> dict[str, Any] | None:
    (wa, pa), (wb, pb) = _text_fingerprint(a), _text_fingerprint(b)
    if min(len(wa), len(wb)) < MIN_TEXT_WORDS:
        return None
    score = _jaccard(pa, pb)
    if score < TEXT_THRESHOLD:
        return None
    ra, rb = _matching(pa, pb)
    passages = [{"words": [s, e], "other_words": [s2, e2], "text": " ".join(wa[s:e + 1])[:1500],
                 "other_text": " ".join(wb[s2:e2 + 1])[:1500]}
                for (s, e), (s2, e2) in zip(_ranges(ra, 0), _ranges(rb, 0), strict=False)]
    return {"method": "text-shingles", "similarity": round(score, 3),
            "passages": passages[:MAX_PASSAGES]}


def _pieces(content: Any, path: str = "") -> list[tuple[str, str, str]]:
    """(where, kind, text) for every string in an answer: code (files, *.py, code fields)
    or text (prose long enough to compare)."""
    out: list[tuple[str, str, str]] = []
    if isinstance(content, dict):
        for k, v in sorted(content.items(), key=lambda kv: str(kv[0])):
            out += _pieces(v, f"{path}/{k}" if path else str(k))
    elif isinstance(content, list):
        for i, v in enumerate(content):
            out += _pieces(v, f"{path}[{i}]")
    elif isinstance(content, str):
        is_code = (path.endswith((".py", ".sh", ".cu", ".cpp", ".c"))
                   or any(seg in ("files", "code", "cells", "source")
                          for seg in re.split(r"[/\[]", path)))
        out.append((path, "code" if is_code else "text", content))
    return out


def compare_answers(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    pb = _pieces(b)
    for where, kind, text in _pieces(a):
        for where_b, kind_b, text_b in pb:
            if kind != kind_b:
                continue
            if kind == "code" and where != where_b and len(pb) > 1:
                # Different files: only compare code pieces at the same path, or the lone one.
                continue
            match = compare_code(text, text_b) if kind == "code" else compare_text(text, text_b)
            if match:
                found.append({"field": where, "other_field": where_b, **match})
    return found


def refresh_similarity(session: Session, attempt: Attempt) -> int:
    """Recompute similarity flags between this attempt and every other submitted attempt of
    the organization on each scenario; a flag is stored on both attempts. Returns pairs.

    On a session marked by defer_similarity (the grading worker's store), nothing is
    compared here: the attempt is refreshed in a transaction of its own once the store has
    committed, so comparing with every earlier attempt never holds the store's write lock.
    Otherwise every comparison is made before the first write, so the write is short."""
    if _DEFER in session.info:
        session.info.setdefault(_PENDING, set()).add(attempt.id)
        return 0
    found: list[tuple[str, int, list[dict[str, Any]]]] = []
    scenarios = []
    for answer in repo.answers_of(session, attempt.id):
        scenarios.append(answer.scenario_id)
        for other in repo.answers_to_scenario_in_org(session, attempt.org_id, answer.scenario_id,
                                                     attempt.id):
            matches = compare_answers(answer.content, other.content)
            if matches:
                found.append((answer.scenario_id, other.attempt_id, matches))
    for scenario_id in scenarios:
        repo.delete_similarity_of(session, scenario_id, attempt.id)
    for scenario_id, other_id, matches in found:
        best = max(m["similarity"] for m in matches)
        for mine, theirs, ms in ((attempt.id, other_id, matches),
                                 (other_id, attempt.id, [_flip(m) for m in matches])):
            repo.add_signal(session, IntegritySignal(
                attempt_id=mine, scenario_id=scenario_id, kind="similarity",
                data={"other_attempt_id": theirs, "similarity": best, "matches": ms},
                at=utcnow()))
    return len(found)


_DEFER, _PENDING = "burnin.similarity.factory", "burnin.similarity.pending"


def defer_similarity(session: Session, factory: sessionmaker[Session]) -> None:
    """Make refresh_similarity on this session run after it commits, each attempt in a
    transaction of its own from factory (nothing runs if the session rolls back)."""
    session.info[_DEFER] = factory

    def after_commit(committed: Session) -> None:
        for attempt_id in sorted(committed.info.pop(_PENDING, set())):
            refresh_similarity_of(factory, attempt_id)

    event.listen(session, "after_commit", after_commit)


def refresh_similarity_of(factory: sessionmaker[Session], attempt_id: int) -> int:
    """refresh_similarity in its own transaction. Flags inform and never score: a failure
    is logged and leaves the old flags, it never fails what triggered it."""
    try:
        with transaction(factory) as session:
            attempt = repo.attempt(session, attempt_id)
            return refresh_similarity(session, attempt) if attempt is not None else 0
    except Exception:
        log.exception("similarity refresh failed", extra={"attempt_id": attempt_id})
        return 0


def _flip(m: dict[str, Any]) -> dict[str, Any]:
    swapped = {"field": m["other_field"], "other_field": m["field"], "method": m["method"],
               "similarity": m["similarity"], "passages": []}
    for p in m["passages"]:
        q = {}
        for k, v in p.items():
            q[k[6:] if k.startswith("other_") else f"other_{k}"] = v
        swapped["passages"].append(q)
    return swapped


def summary(session: Session, attempt_id: int) -> dict[str, Any]:
    signals = repo.signals_of(session, attempt_id)
    events = [s for s in signals if s.kind in EVENT_KINDS]
    return {
        "counts": dict(Counter(s.kind for s in events)),
        "timeline": [{"at": s.at.isoformat(), "kind": s.kind, "scenario_id": s.scenario_id,
                      "data": s.data} for s in events],
        "similar": [{"scenario_id": s.scenario_id, **s.data} for s in signals
                    if s.kind == "similarity"],
    }
