"""concepts: credit for what free text asserts, in any words, anywhere in the answer field.

Each sentence (and each clause of a long one) is compared with every concept twice:

- lexically: the concept's phrasings (Jinja templates over the variant) as anchors, with
  plain inflections; a negated mention ("we would not use X", "X is not the cause") or an
  asserted contradiction earns nothing;
- semantically: cosine similarity of all-MiniLM-L6-v2 sentence embeddings (graders.semantic)
  with the concept's exemplars (whole sentences that assert it) and negative exemplars
  (the concept negated or misapplied). A unit asserts the concept when it is close to an
  exemplar and closer to the exemplars than to every negative exemplar.

A sentence asserts a concept when it matches lexically (and is not closer to a negative
exemplar) or semantically. Its credit then follows how specific it is to the variant:
full when it states a number with a unit, an equation or an identifier of the variant
(a node, a GPU model); most when a neighbouring sentence does; about half for plain prose;
almost nothing for a list of keywords. A concept with a claim must carry the right number:
a confidently wrong one earns nothing. Naming one of the concept's wrong entities (the
healthy node, the red-herring host) in the asserting sentence counts against it.
A unit in the grey zone of similarity is neither credit nor zero: it is reported as
awaiting review with the points it could still earn (CheckOutcome.points_max).

The section is a hint: with scope 'field' (the default) a concept explained under another
heading of the same field counts as well.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from typing import Any

from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from graders import semantic
from graders.checks import claims, restatement
from graders.checks.anchors import Anchors, build_anchors
from graders.checks.base import CheckContext, CheckOutcome, CheckSetupError, is_blank, r4
from graders.checks.sentences import (  # noqa: F401 - split_sentences re-exported
    Sentence,
    clauses,
    split_sections,
    split_sentences,
)
from graders.report import Evidence
from graders.rubric import Concept, ConceptsCheck

CREDIT_ANCHORED = 1.0  # the sentence states a number, an equation or a variant identifier
CREDIT_NEAR = 0.75  # a neighbouring sentence of the same paragraph does
CREDIT_BARE = 0.5  # a real sentence, but no variant detail nearby
CREDIT_LIST = 0.1  # mostly a list of phrasings, or too short to say anything
MIN_WORDS = 8  # shorter sentences without variant detail count as a list
LIST_COVERAGE = 0.6  # share of a sentence's characters covered by phrasings
LIST_FUNCTION_SHARE = 0.08  # prose has function words ("the", "of", "so") between terms
# A figure or a relation: a digit, an operator or an arrow (terse notes state these).
DETAIL_RE = re.compile(r"[0-9]|[=<>≈×÷→⇒√]|->|=>")
RELATION_RE = re.compile(r"[→⇒]|->|=>")
QUOTE_CHARS = 300
MAX_SENTENCES = 300  # past this the rest of a huge answer is not read (said in the detail)
# Semantic thresholds (cosine of all-MiniLM-L6-v2, rounded to 3 decimals), set on the
# exemplar sets of the flagship rubrics: paraphrases of an exemplar score 0.6-0.85, a
# sentence on the same topic that asserts something else 0.35-0.55.
SIM_ACCEPT = 0.6  # a unit this close to an exemplar asserts the concept
SIM_ACCEPT_PHRASES = 0.7  # when the concept has phrasings only (no exemplars)
SIM_REVIEW = 0.5  # between this and the acceptance threshold: a person decides
SIM_MARGIN = 0.04  # an exemplar must beat every negative exemplar by this much
# A unit this close to a negative exemplar (and nearer it than to any exemplar) states the
# misconception: set above what correct text on the same topic reaches (0.60-0.71 on the
# strong calibration answers of the five scenarios; misconceptions stated 0.77-0.99).
SIM_FALSE = 0.75
MISAPPLIED_CREDIT = 0.5  # a concept asserted in one sentence and misapplied in another
MIN_EXEMPLAR_CHARS = 10  # shorter phrasings ("MIG", "Young") are anchors, not exemplars

NEG_BEFORE = {
    "not", "no", "never", "without", "neither", "nor", "cannot", "can't", "don't", "doesn't",
    "didn't", "won't", "wouldn't", "isn't", "aren't", "wasn't", "weren't", "shouldn't",
    "avoid", "against",
}
NEG_AFTER_RE = re.compile(
    r"^\W*(?:\w+\W+){0,6}?(?:is|are|was|were|would be|will be|seems|looks)?\s*"
    r"(?:not|never|\w+n't|ruled out|unrelated|benign|irrelevant|a red herring|red herrings)\b",
    re.IGNORECASE,
)
NEG_WORDS_IN_PHRASE = re.compile(
    r"\b(?:not|no|never|without|ruled out|unrelated|benign|red herring)\b", re.IGNORECASE)
FUNCTION_WORDS = {
    "the", "a", "an", "of", "to", "in", "on", "for", "is", "are", "was", "were", "with", "and",
    "so", "because", "which", "that", "we", "i", "it", "its", "by", "per", "from", "at", "as",
    "be", "this", "then", "than", "when", "if", "our", "their", "each", "every", "would",
    "will", "can", "should", "into", "while", "after", "before", "since", "but", "or", "has",
    "have", "do", "does", "there", "they", "them", "one", "all",
}
CLAUSE_BREAK_RE = re.compile(r"[,;:()\[\]]|\bbut\b|\balthough\b|\bwhereas\b", re.IGNORECASE)


# --------------------------------------------------------------------------- text

@functools.lru_cache(maxsize=8192)
def _phrase_re(phrase: str) -> re.Pattern[str]:
    # A word may carry a plain inflection ("overlaps", "overlapped", "sharding").
    words = [re.escape(w) + (r"(?:s|es|d|ed|ing|ism)?" if w[-1:].isalpha() else "")
             for w in phrase.split()]
    body = r"\s+".join(words)
    return re.compile(r"(?<![A-Za-z0-9])" + body + r"(?![A-Za-z0-9])", re.IGNORECASE)


def _anchors(ctx: CheckContext) -> Anchors:
    cached = ctx.cache.get("concept_anchors")
    if not isinstance(cached, Anchors):
        cached = build_anchors(dict(ctx.params), ctx.artifacts)
        ctx.cache["concept_anchors"] = cached
    return cached


# --------------------------------------------------------------------------- matching


@dataclass
class Hit:
    concept: str
    phrase: str
    sentence: Sentence
    start: int
    end: int
    negated: bool
    contradiction: bool


def _negated(sentence: str, start: int, end: int, phrase: str) -> bool:
    if NEG_WORDS_IN_PHRASE.search(phrase):
        return False  # the phrasing carries its own negation ("not the cause")
    before = sentence[:start]
    clause_before = CLAUSE_BREAK_RE.split(before)[-1]
    words = re.findall(r"[A-Za-z']+", clause_before.lower())[-4:]
    if any(w in NEG_BEFORE for w in words):
        return True
    after = CLAUSE_BREAK_RE.split(sentence[end:])[0]
    return bool(NEG_AFTER_RE.match(after))


@dataclass
class Rendered:
    """A concept's material for this variant."""

    phrasings: list[str]
    contradicts: list[str]
    exemplars: list[str]  # semantic positives: exemplars, then phrasings long enough
    negatives: list[str]
    against: list[str]  # wrong entities
    accept: float  # similarity that asserts the concept
    veto: bool  # the author wrote exemplars and negatives: semantic "no" overrides a keyword
    misconceptions: list[str] = field(default_factory=list)  # negative exemplars proper


_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


@functools.lru_cache(maxsize=4096)
def _template(source: str) -> Any:
    # Compiling a template costs a millisecond; the rubric's few hundred are compiled once
    # per process instead of once per check and answer.
    return _ENV.from_string(source)


def render(concept: Concept, params: Mapping[str, Any]) -> Rendered:
    def many(templates: list[str], split_lists: bool = False) -> list[str]:
        out: list[str] = []
        for t in templates:
            if split_lists:
                # '{{ healthy_nodes }}' naming a list parameter gives each of its items
                m = re.fullmatch(r"\s*\{\{\s*([a-z][a-z0-9_]*)\s*\}\}\s*", t)
                if m and isinstance(params.get(m.group(1)), list | tuple):
                    out += [str(v) for v in params[m.group(1)] if str(v).strip()]
                    continue
            out.append(_template(t).render(**params).strip())
        return [o for o in out if o]

    try:
        phr = many(concept.phrasings)
        con = many(concept.contradicts)
        ex = many(concept.exemplars)
        neg = many(concept.negative_exemplars)
        against = many(concept.against, split_lists=True)
    except Exception as exc:
        raise CheckSetupError(f"concept {concept.id}: template: "
                              f"{type(exc).__name__}: {exc}") from exc
    positives = ex + [p for p in phr if len(p) >= MIN_EXEMPLAR_CHARS and " " in p]
    return Rendered(phr, con, list(dict.fromkeys(positives)), list(dict.fromkeys(neg + con)),
                    against, SIM_ACCEPT if ex else SIM_ACCEPT_PHRASES,
                    veto=bool(ex) and bool(neg or con), misconceptions=list(dict.fromkeys(neg)))


def applies(concept: Concept, params: Mapping[str, Any]) -> bool:
    cond = concept.applies_if
    return cond is None or params.get(cond.param) in cond.one_of


def find_hits(sentences: list[Sentence], concept_id: str, phrasings: list[str],
              contradicts: list[str]) -> list[Hit]:
    hits: list[Hit] = []
    for s in sentences:
        for is_con, phrases in ((False, phrasings), (True, contradicts)):
            for p in phrases:
                for m in _phrase_re(p).finditer(s.text):
                    hits.append(Hit(concept_id, p, s, m.start(), m.end(),
                                    _negated(s.text, m.start(), m.end(), p), is_con))
    return hits


# --------------------------------------------------------------------------- check


def sections_of(value: Any, section: str | None, scope: str) -> list[tuple[str | None, str]]:
    """(section, text) pairs of an answer field: its own section first, then the others."""
    if isinstance(value, str):
        return [(None, value)]
    if isinstance(value, Mapping):
        own = value.get(section) if section is not None else None
        out: list[tuple[str | None, str]] = [(section, own)] if isinstance(own, str) else []
        if scope == "section" and section is not None:
            return out
        out += [(str(k), v) for k, v in value.items() if k != section and isinstance(v, str)]
        return out
    return []


@dataclass
class Semantic:
    """Per sentence and concept: best exemplar and negative similarity over its units."""

    pos: dict[tuple[int, str], float]
    neg: dict[tuple[int, str], float]
    affirms: dict[tuple[int, str], bool]
    against: dict[tuple[int, str], bool]
    best_unit: dict[tuple[int, str], str]
    available: bool
    units: dict[tuple[int, str], list[tuple[str, float, float]]] = field(default_factory=dict)
    error: str = ""
    # Units that state a misconception: nearer a negative exemplar than any exemplar of the
    # check; the unit earns nothing, nor does a keyword standing in it.
    false_units: set[tuple[int, str]] = field(default_factory=set)
    misapplied: dict[str, tuple[int, str]] = field(default_factory=dict)  # concept -> where
    misapplied_at: set[tuple[int, str]] = field(default_factory=set)  # (sentence, concept)


def semantic_scores(sentences: list[Sentence], rendered: Mapping[str, Rendered],
                    listlike: Mapping[int, bool], foreign: Sequence[str] = (),
                    false_sentences: Set[int] = frozenset()) -> Semantic:
    """foreign: misconceptions of the field's other concepts checks; false_sentences: ones
    that state a contradiction (their units assert nothing)."""
    out = Semantic({}, {}, {}, {}, {}, available=True)
    wanted = {cid: r for cid, r in rendered.items() if r.exemplars}
    if not wanted or not sentences:
        return out
    units: list[tuple[int, str]] = []
    for s in sentences:
        # A long sentence is embedded clause by clause (one vector for 40 words blurs what
        # each clause asserts, and costs as much as its clauses); the clauses of a keyword
        # list are keywords, so a list is embedded whole.
        parts = [] if listlike.get(s.index, False) else clauses(s.text)
        units += [(s.index, c) for c in parts] or [(s.index, s.text)]
    refs: list[str] = []
    for r in wanted.values():
        refs += r.exemplars + r.negatives
    refs = list(dict.fromkeys(refs + list(foreign)))
    try:
        sims = semantic.similarity([expand_abbreviations(u) for _, u in units], refs)
    except semantic.EncoderUnavailable as exc:
        out.available, out.error = False, str(exc)
        return out
    col = {t: i for i, t in enumerate(refs)}
    neg_count = {t: _negations(t) for t in refs}
    for (si, utext), row in zip(units, sims, strict=True):
        unit_neg = _negations(expand_abbreviations(utext))
        best_pos = max((row[col[t]] for r in wanted.values() for t in r.exemplars), default=0.0)
        false_for: list[str] = []
        for cid, r in wanted.items():
            pos = max((row[col[t]] for t in r.exemplars), default=0.0)
            neg = max((row[col[t]] for t in r.negatives), default=0.0)
            # A unit with more negated verbs than a negative exemplar refutes it ("paging
            # does not remove all waste"): not a misconception, whatever the embedding says.
            stated = max((row[col[t]] for t in r.misconceptions if neg_count[t] >= unit_neg),
                         default=0.0)
            if r.veto and stated >= SIM_FALSE and stated >= pos + SIM_MARGIN:
                false_for.append(cid)
            key = (si, cid)
            out.units.setdefault(key, []).append((utext, pos, neg))
            if pos > out.pos.get(key, -1.0):
                out.pos[key], out.best_unit[key] = pos, utext
            out.neg[key] = max(neg, out.neg.get(key, -1.0))
            if pos >= r.accept and pos >= neg + SIM_MARGIN:
                out.affirms[key] = True
        worst = max((max((row[col[t]] for t in wanted[c].misconceptions
                              if neg_count[t] >= unit_neg),
                         default=0.0) for c in false_for), default=0.0)
        elsewhere = max((row[col[t]] for t in foreign if neg_count[t] >= unit_neg),
                        default=0.0)
        if (false_for and worst >= best_pos + SIM_MARGIN) or si in false_sentences or (
                elsewhere >= SIM_FALSE and elsewhere >= best_pos + SIM_MARGIN):
            out.false_units.add((si, utext))
        for cid in false_for:
            out.misapplied.setdefault(cid, (si, utext))
            out.misapplied_at.add((si, cid))
            out.against[(si, cid)] = True
    # A false unit affirms nothing, and is no near miss either: its sentence's concepts are
    # judged on the other units only.
    for key, us in out.units.items():
        if any((key[0], u) in out.false_units for u, _, _ in us):
            rest = [(p_, u) for u, p_, _ in us if (key[0], u) not in out.false_units]
            out.pos[key], out.best_unit[key] = max(rest) if rest else (0.0, us[0][0])
    for key in list(out.affirms):
        r = wanted[key[1]]
        if not any(p_ >= r.accept and p_ >= n_ + SIM_MARGIN
                   and (key[0], u) not in out.false_units for u, p_, n_ in out.units[key]):
            del out.affirms[key]
    # A sentence that misapplies a concept in one clause does not assert it in another.
    for key in [k for k in out.affirms if out.against.get(k)]:
        del out.affirms[key]
    # A sentence says the opposite when its closest negative beats its closest exemplar
    # (over all its clauses: one clause about something else must not veto the sentence).
    for key, neg in out.neg.items():
        r = wanted[key[1]]
        if r.veto and neg >= SIM_REVIEW and neg >= out.pos.get(key, 0.0) + SIM_MARGIN \
                and not out.affirms.get(key, False):
            out.against[key] = True
    return out


# Shorthand engineers write in notes, spelled out for the embedding model only (quotes and
# keyword matching keep the candidate's text): "Async dist-ckpt: stage to pinned host
# memory, background write" sat at 0.50 of "checkpoints are written asynchronously ..."
# and at 0.72 spelled out. Only unambiguous forms ("AR" is all-reduce or adaptive routing).
ABBREVIATIONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, flags), r) for p, flags, r in (
        (r"\bdist-ckpts?\b", re.IGNORECASE, "distributed checkpoint"),
        (r"\bckpts\b", re.IGNORECASE, "checkpoints"),
        (r"\bckpt\b", re.IGNORECASE, "checkpoint"),
        (r"\basync\b", re.IGNORECASE, "asynchronous"),
        (r"\bAG\b", 0, "all-gather"),
        (r"\bRS\b", 0, "reduce-scatter"),
        (r"\bfwd\b", re.IGNORECASE, "forward"),
        (r"\bbwd\b", re.IGNORECASE, "backward"),
        (r"\bgrads\b", re.IGNORECASE, "gradients"),
        (r"\bgrad\b", re.IGNORECASE, "gradient"),
        (r"(?<![A-Za-z])µbs?\b", 0, "micro-batch"),
        (r"\bbusbw\b", re.IGNORECASE, "bus bandwidth"),
        (r"\bw/o\b", re.IGNORECASE, "without"),
    ))


def expand_abbreviations(text: str) -> str:
    """The text with common shorthand spelled out (what the embedding model reads)."""
    for pattern, repl in ABBREVIATIONS:
        text = pattern.sub(repl, text)
    return text


# Negated verbs only: "paging does not remove all waste" refutes "paging removes
# fragmentation, so there is no waste", whose "no" belongs to the claim itself.
NEGATION_RE = re.compile(r"\b(?:not|never|cannot)\b|n't\b", re.IGNORECASE)


def _negations(text: str) -> int:
    return len(NEGATION_RE.findall(text))


def _names(text: str, entity: str) -> bool:
    return re.search(r"(?<![A-Za-z0-9_\-])" + re.escape(entity) + r"(?![A-Za-z0-9_\-])",
                     text, re.IGNORECASE) is not None


@dataclass
class Finding:
    """The best evidence for one concept."""

    credit: float = 0.0
    upper: float = 0.0  # what it could still earn after review
    evidence: Evidence | None = None
    contradicted: bool = False
    unsure: bool = False
    negated: bool = False
    wrong_claim: bool = False


def run(check: ConceptsCheck, max_points: float, ctx: CheckContext) -> CheckOutcome:
    parts = sections_of(ctx.answer.get(check.field), check.section, check.scope)
    text = "\n\n".join(t for _, t in parts)
    concepts = [c for c in check.concepts if applies(c, ctx.params)]
    if not concepts:
        raise CheckSetupError("no concept applies to this variant")
    if is_blank(text):
        return CheckOutcome(0.0, [Evidence(kind="note", label=c.id, passed=False, credit=0.0,
                                           text="not answered") for c in concepts],
                            status="unanswered", detail="no answer")
    sentences = split_sections(parts)
    truncated = len(sentences) > MAX_SENTENCES
    sentences = sentences[:MAX_SENTENCES]
    # A near-copy of a prompt sentence is evidence of nothing: it is left out of matching
    # (and gives no neighbour its figures); reviewers see why in the evidence.
    units = restatement.prompt_units(ctx.prompt)
    echoes = {s.index: (s, u) for s in sentences
              if (u := restatement.restated(s.text, units)) is not None}
    sentences = [s for s in sentences if s.index not in echoes]
    anchors = _anchors(ctx)
    rendered = {c.id: render(c, ctx.params) for c in check.concepts}
    all_hits = [h for c in check.concepts
                for h in find_hits(sentences, c.id, rendered[c.id].phrasings,
                                   rendered[c.id].contradicts)]
    listlike = _listlike(sentences, all_hits)
    own_ids = {id(c) for c in check.concepts}
    foreign = [render(o, ctx.params) for o in ctx.cache.get("field_concepts", {}).get(
        check.field, []) if id(o) not in own_ids and applies(o, ctx.params)]
    # A sentence with a stated contradiction (of any concept on this field) is false: it
    # is evidence for no concept.
    false_sentences = {h.sentence.index for h in all_hits if h.contradiction and not h.negated}
    for o in foreign:
        false_sentences |= {h.sentence.index for h in find_hits(sentences, "", [], o.contradicts)
                            if not h.negated}
    sem = semantic_scores(sentences, {c.id: rendered[c.id] for c in concepts}, listlike,
                          foreign=[m for o in foreign for m in o.misconceptions],
                          false_sentences=false_sentences)
    sentence_anchors = {s.index: anchors.find(s.text) for s in sentences}
    by_index = {s.index: s for s in sentences}

    def own_anchors(s: Sentence, concept_id: str) -> list[str]:
        # A concept's own phrasings never make its sentence specific ("thermal slowdown"
        # does not anchor on the cause word "thermal").
        t = s.text
        for o in all_hits:
            if o.concept == concept_id and o.sentence.index == s.index:
                t = t[:o.start] + " " * (o.end - o.start) + t[o.end:]
        return anchors.find(t)

    def expected_claim(c: Concept) -> float | None:
        spec = c.claim
        if spec is None:
            return None
        raw = ctx.answer_key().get(spec.key) if spec.key else ctx.params.get(spec.param or "")
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
            raise CheckSetupError(f"concept {c.id}: claim value {spec.key or spec.param!r} is "
                                  f"not a number ({raw!r})")
        return float(raw)

    evidence: list[Evidence] = []
    earned = upper_total = 0.0
    total_w = sum(c.weight for c in concepts)
    unsure = negations = contradictions = wrong_claims = 0
    for c in concepts:
        f = _judge_concept(c, rendered[c.id], sentences, all_hits, sem, listlike,
                           sentence_anchors, own_anchors, expected_claim(c), by_index)
        if echoes and f.credit == 0 and f.evidence is not None and f.evidence.kind == "note":
            f.evidence = _echo_evidence(c, rendered[c.id], echoes) or f.evidence
        unsure += f.unsure
        negations += f.negated
        contradictions += f.contradicted
        wrong_claims += f.wrong_claim
        earned += c.weight * f.credit
        upper_total += c.weight * max(f.credit, f.upper)
        if f.evidence is not None:
            evidence.append(f.evidence)

    fraction = earned / total_w if total_w else 0.0
    upper_fraction = upper_total / total_w if total_w else 0.0
    confidence = 0.9
    if unsure:
        confidence -= 0.35
    if contradictions or wrong_claims:
        confidence -= 0.2
    if negations:
        confidence -= 0.1
    own_words = sum(len(s.text.split()) for s in sentences)
    if earned == 0 and upper_total == 0 and own_words >= 30:
        confidence = min(confidence, 0.4)  # a long answer matching nothing: a person looks
    if not sem.available:
        confidence = min(confidence, 0.5)  # lexical only: other wordings go unseen
    if truncated:
        confidence = min(confidence, 0.5)
    confidence = max(0.0, min(1.0, confidence))
    found = sum(1 for e in evidence if (e.credit or 0) > 0)
    specific = sum(1 for e in evidence if e.passed)
    detail = (f"{found}/{len(concepts)} concepts asserted, {specific} in variant-specific "
              "sentences"
              + (f", {unsure} awaiting review" if unsure else "")
              + (f", {contradictions} contradicted" if contradictions else "")
              + (f", {wrong_claims} with a wrong number" if wrong_claims else "")
              + (f", {negations} only negated" if negations else "")
              + (f", {len(echoes)} sentences restate the prompt (no credit)" if echoes else "")
              + (f"; semantic matching off ({sem.error})" if not sem.available else "")
              + (f"; only the first {MAX_SENTENCES} sentences read" if truncated else ""))
    points = r4(fraction * max_points)
    points_max = r4(max(upper_fraction, fraction) * max_points)
    material = points_max - points >= 0.1 * max_points
    return CheckOutcome(points, evidence, confidence=r4(confidence),
                        needs_review=confidence < check.min_confidence or material,
                        detail=detail, points_max=points_max)


def _judge_concept(c: Concept, r: Rendered, sentences: list[Sentence], all_hits: list[Hit],
                   sem: Semantic, listlike: Mapping[int, bool],
                   sentence_anchors: Mapping[int, list[str]],
                   own_anchors: Callable[[Sentence, str], list[str]],
                   expected: float | None, by_index: Mapping[int, Sentence]) -> Finding:
    hits = [h for h in all_hits if h.concept == c.id]
    looked_for = {"description": c.description, "phrasings": r.phrasings[:8],
                  "exemplars": r.exemplars[:6]}
    contra = [h for h in hits if h.contradiction and not h.negated]
    candidates: list[tuple[float, Sentence, str, list[str], str]] = []
    named: set[int] = set()  # sentences whose keyword is a distinctive name (S-LoRA, ZeRO-1)
    against_quote: tuple[Sentence, str] | None = None
    grey: tuple[float, Sentence] | None = None
    negated: Hit | None = None
    wrong: tuple[Sentence, claims.Verdict] | None = None
    best_right: tuple[Sentence, claims.Verdict] | None = None
    for s in sentences:
        key = (s.index, c.id)
        lex = [h for h in hits if h.sentence.index == s.index and not h.contradiction]
        lex_ok = [h for h in lex if not h.negated]
        sem_yes = sem.affirms.get(key, False)
        sem_no = sem.against.get(key, False)
        if key in sem.misapplied_at and not (lex and not lex_ok):
            # one clause states the concept's misconception: the sentence asserts nothing
            # of it, whatever keyword another clause carries
            if against_quote is None:
                against_quote = (s, "states a misconception (nearer a negative exemplar)")
            continue
        if lex_ok and sem.false_units:
            # a keyword standing in a clause that states a misconception earns nothing
            lex_ok = [h for h in lex_ok if not any(
                (s.index, u) in sem.false_units and s.text[h.start:h.end] in u
                for u, _, _ in sem.units.get(key, []))]
            if not lex_ok and not sem_yes:
                if against_quote is None:
                    against_quote = (s, "states a misconception (nearer a negative exemplar)")
                continue
        if sem_no and lex_ok:
            # A keyword is vetoed only by the clause it stands in: "Young/Daly gives 53 min"
            # is not undone by a later clause that resembles a negative exemplar.
            own = [(p_, n_) for u, p_, n_ in sem.units.get(key, [])
                   if any(s.text[h.start:h.end] in u for h in lex_ok)]
            sem_no = bool(own) and all(n_ >= SIM_REVIEW and n_ >= p_ + SIM_MARGIN
                                       for p_, n_ in own)
        if lex and not lex_ok:
            # a negated phrasing wins over a similar embedding: embeddings barely see "not"
            negated = negated or lex[0]
            continue
        if not lex_ok and not sem_yes:
            pos = sem.pos.get(key, 0.0)
            if pos >= SIM_REVIEW and not sem_no and not lex and (grey is None or pos > grey[0]):
                grey = (pos, s)
            continue
        if sem_no and not sem_yes:
            if against_quote is None:
                against_quote = (s, "closer to a negative exemplar")
            continue
        wrong_entity = next((e for e in r.against if _names(s.text, e)), None)
        if wrong_entity is not None:  # asserted about the wrong node/GPU/host
            against_quote = (s, f"names {wrong_entity}, wrong for this variant")
            continue
        how = "phrasing " + repr(lex_ok[0].phrase) if lex_ok else \
            f"similar to an exemplar ({sem.pos.get(key, 0.0):.2f})"
        credit, basis, anchor = _credit(s, own_anchors(s, c.id), sentences,
                                        dict(sentence_anchors), dict(listlike),
                                        semantic_match=sem_yes)
        if expected is not None and c.claim is not None:
            v = claims.judge(claims.extract(s.text), expected, c.claim.unit, c.claim.rel_tol,
                             c.claim.wrong_tol if c.claim.wrong_tol is not None
                             else 2 * c.claim.rel_tol)
            if v.outcome == "right":  # a right derived value asserts, terse or not
                if best_right is None:
                    best_right = (s, v)
                credit, basis = 1.0, "states the right value"
            elif v.outcome == "wrong":
                if wrong is None:
                    wrong = (s, v)
                continue
            else:
                credit *= c.claim.no_number_credit
                basis += "; no checked value" if v.outcome == "absent" else "; value off"
        if any(_distinctive(h.phrase) for h in lex_ok):
            named.add(s.index)
        candidates.append((credit, s, basis, anchor, how))
    if contra or (against_quote and not candidates and "names" in against_quote[1]):
        if contra:
            s_, why = contra[0].sentence, f"contradiction: {contra[0].phrase!r}"
        else:
            assert against_quote is not None
            s_, why = against_quote
        return Finding(contradicted=True, evidence=Evidence(
            kind="quote", label=c.id, passed=False, credit=0.0,
            value={"against": why, "looked_for": looked_for}, text=_quote(s_.text)))
    if wrong is not None and best_right is None:
        s_, v = wrong
        return Finding(wrong_claim=True, evidence=Evidence(
            kind="comparison", label=c.id, passed=False, credit=0.0,
            value={"claim": v.claim.text if v.claim else None, "stated": _r(v.stated),
                   "unit": c.claim.unit if c.claim else None,
                   "rel_error": _r(v.rel_error)},
            expected=_r(v.expected), text=_quote(s_.text)))
    if candidates:
        credit, s_, basis, anchor, how = max(candidates, key=lambda t: (t[0], -t[1].index))
        value: dict[str, Any] = {"matched": how, "basis": basis, "anchors": anchor[:6],
                                 "section": s_.section}
        if best_right is not None and best_right[0].index == s_.index:
            v = best_right[1]
            value["claim"] = v.claim.text if v.claim else None
            value["stated"] = _r(v.stated)
            value["expected"] = _r(v.expected)
        misapplied = sem.misapplied.get(c.id)
        if misapplied is not None and misapplied[0] != s_.index:
            # asserted here, misapplied there: the answer does not hold the concept firmly
            credit *= MISAPPLIED_CREDIT
            value["misapplied"] = _quote(by_index[misapplied[0]].text)
            value["basis"] = basis + "; misapplied elsewhere in the answer"
        upper = 0.0
        # unsure: a keyword list, or a keyword in a sentence the model finds off-topic
        # (a technique's own name, "S-LoRA" or "nccl-tests", needs no model to agree: the
        # model does not know most names; a common word like "quality" or "queue" does)
        # A keyword in a variant-specific sentence (its figures, its node names) at full
        # credit is no stuffing: the model finding a table row off-topic leaves no doubt.
        unsure_now = credit <= CREDIT_LIST or (
            s_.index not in named and credit < CREDIT_ANCHORED
            and r.veto and sem.available and not sem.affirms.get((s_.index, c.id), False)
            and sem.pos.get((s_.index, c.id), 0.0) < SIM_REVIEW)
        if grey is not None and credit < CREDIT_ANCHORED:
            upper = max(credit, _credit(grey[1], own_anchors(grey[1], c.id), sentences,
                                        dict(sentence_anchors), dict(listlike))[0])
        return Finding(credit=credit, upper=upper, unsure=unsure_now, evidence=Evidence(
            kind="quote", label=c.id, passed=credit >= CREDIT_NEAR, credit=r4(credit),
            value=value, text=_quote(s_.text)))
    if grey is not None:
        g_credit = _credit(grey[1], own_anchors(grey[1], c.id), sentences,
                           dict(sentence_anchors), dict(listlike))[0]
        return Finding(upper=g_credit, unsure=True, negated=negated is not None,
                       evidence=Evidence(
                           kind="quote", label=c.id, passed=None, credit=0.0,
                           value={"awaiting_review": f"similarity {grey[0]:.2f}, below "
                                  f"{r.accept:.2f}", "looked_for": looked_for},
                           text=_quote(grey[1].text)))
    if not sem.available:
        # Without the model other wordings go unseen: a person decides, up to full credit.
        return Finding(upper=1.0, unsure=True, negated=negated is not None, evidence=Evidence(
            kind="note", label=c.id, passed=None, credit=0.0,
            value={"looked_for": looked_for}, text="not found lexically; semantic matching off"))
    if against_quote is not None:
        s_, why = against_quote
        return Finding(negated=True, evidence=Evidence(
            kind="quote", label=c.id, passed=False, credit=0.0,
            value={"against": why, "looked_for": looked_for}, text=_quote(s_.text)))
    return Finding(negated=negated is not None, evidence=Evidence(
        kind="quote" if negated else "note", label=c.id, passed=False, credit=0.0,
        value={"negated": negated.phrase, "looked_for": looked_for} if negated
        else {"looked_for": looked_for},
        text=_quote(negated.sentence.text) if negated else "not found"))


def _echo_evidence(c: Concept, r: Rendered,
                   echoes: Mapping[int, tuple[Sentence, restatement.PromptUnit]]
                   ) -> Evidence | None:
    """A concept found only in sentences that restate the prompt: say so, credit 0."""
    said = [s for s, _ in echoes.values()]
    hit = next((h for h in find_hits(said, c.id, r.phrasings, []) if not h.negated), None)
    if hit is None:
        return None
    unit = echoes[hit.sentence.index][1]
    return Evidence(kind="quote", label=c.id, passed=False, credit=0.0,
                    value={"against": "restates the prompt", "prompt": _quote(unit.text),
                           "looked_for": {"description": c.description,
                                          "phrasings": r.phrasings[:8]}},
                    text=_quote(hit.sentence.text))


def _distinctive(phrase: str) -> bool:
    """A name rather than a common word: an acronym, a capital inside, a digit or a hyphen
    ("MIG", "PagedAttention", "ZeRO-1", "nccl-tests"; not "quality", "eval", "queue")."""
    return bool(re.search(r"[0-9\-_/]|[A-Z].*[A-Z]|^[a-z]+[A-Z]", phrase))


def _r(x: float | None) -> float | None:
    return None if x is None else float(f"{x:.6g}")


def _listlike(sentences: list[Sentence], hits: list[Hit]) -> dict[int, bool]:
    """Sentence index -> True when it is a list of phrasings rather than prose."""
    out: dict[int, bool] = {}
    for s in sentences:
        mask = [False] * len(s.text)
        for h in hits:
            if h.sentence.index == s.index:
                for i in range(h.start, h.end):
                    mask[i] = True
        covered = sum(1 for i, ch in enumerate(s.text) if mask[i] and not ch.isspace())
        total = sum(1 for ch in s.text if not ch.isspace()) or 1
        uncovered = "".join(" " if mask[i] else ch for i, ch in enumerate(s.text))
        words = re.findall(r"[A-Za-z']+", s.text)
        function = [w for w in re.findall(r"[A-Za-z']+", uncovered) if w.lower() in FUNCTION_WORDS]
        matched = sum(1 for h in hits if h.sentence.index == s.index)
        distinct = {w.lower() for w in function}
        # Terse notes ("deterministic (seed, step) -> sample map => exact resume") have few
        # function words too; they are not a list when they carry figures or relations.
        # An arrow states a consequence ("(seed, step) -> sample map => exact resume"),
        # which a list of buzzwords does not, so a note with arrows may name more terms.
        arrow_note = bool(RELATION_RE.search(s.text)) and matched < 6
        terse_detail = bool(DETAIL_RE.search(s.text)) and (matched < 3 or arrow_note)
        out[s.index] = (covered / total >= LIST_COVERAGE
                        or (len(function) < max(2.0, LIST_FUNCTION_SHARE * len(words))
                            and not terse_detail)
                        or (matched >= 3 and len(distinct) < 3 and not arrow_note))  # "X and Y and Z"
    return out


def _credit(s: Sentence, own: list[str], sentences: list[Sentence],
            anchors: dict[int, list[str]], listlike: dict[int, bool],
            semantic_match: bool = False) -> tuple[float, str, list[str]]:
    # semantic_match: the model finds the fragment close to an exemplar, so a terse note
    # ("PP2 across nodes.") is an assertion in plain prose, not a dropped keyword.
    if listlike.get(s.index, False):
        return CREDIT_LIST, "list of keywords", []
    if own:
        return CREDIT_ANCHORED, "variant-specific sentence", own
    if len(s.text.split()) < MIN_WORDS and not semantic_match:
        return CREDIT_LIST, "too short to say anything specific", []
    near: list[str] = []
    for other in sentences:
        if other.paragraph == s.paragraph and 0 < abs(other.index - s.index) <= 2 \
                and not listlike.get(other.index, False):
            near += anchors.get(other.index, [])
    if near:
        return CREDIT_NEAR, "next to a variant-specific sentence", sorted(set(near))
    return CREDIT_BARE, "no variant detail", []


def _quote(text: str) -> str:
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "\u2026"
