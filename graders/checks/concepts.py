"""concepts: free text against the concepts a criterion names.

A concept earns full credit only in a sentence that is specific to this variant: it names
a number, an identifier or a cause word that occurs in the variant's parameters or
artifacts (a node name, a temperature, a clock, the planted cause). A sentence next to
such a sentence earns most of the credit; a sentence with no variant detail earns little;
a "sentence" that is mostly a list of phrasings earns almost nothing. A phrasing that is
negated ("we would not use X", "X is not the cause") earns nothing, and a concept whose
contradiction is asserted earns nothing. Matched sentences are quoted as evidence; when the
check is unsure (credit from unspecific sentences, contradictions, long text matching
nothing) it lowers its confidence and below the rubric's min_confidence asks for review.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from graders.checks.base import CheckContext, CheckOutcome, CheckSetupError, is_blank, r4
from graders.report import Evidence
from graders.rubric import Concept, ConceptsCheck

CREDIT_ANCHORED = 1.0  # the sentence itself names something of this variant
CREDIT_NEAR = 0.6  # a neighbouring sentence of the same paragraph does
CREDIT_BARE = 0.35  # a real sentence, but no variant detail nearby
CREDIT_LIST = 0.1  # mostly a list of phrasings, or too short to say anything
MIN_WORDS = 8  # shorter sentences without variant detail count as a list
LIST_COVERAGE = 0.6  # share of a sentence's characters covered by phrasings
LIST_FUNCTION_SHARE = 0.08  # prose has function words ("the", "of", "so") between terms
QUOTE_CHARS = 300
ARTIFACT_SCAN_BYTES = 8 * 1024 * 1024

NEG_BEFORE = {
    "not", "no", "never", "without", "neither", "nor", "cannot", "can't", "don't", "doesn't",
    "didn't", "won't", "wouldn't", "isn't", "aren't", "wasn't", "weren't", "shouldn't",
    "avoid", "against",
}
NEG_AFTER_RE = re.compile(
    r"^\W*(?:\w+\W+){0,6}?(?:is|are|was|were|would be|will be|seems|looks)?\s*"
    r"(?:not|never|\w+n't|ruled out|unrelated|benign|irrelevant|a red herring|red herrings)\b",
    re.I,
)
NEG_WORDS_IN_PHRASE = re.compile(
    r"\b(?:not|no|never|without|ruled out|unrelated|benign|red herring)\b", re.I)
STOPWORDS = {
    "with", "from", "that", "this", "have", "none", "true", "false", "node", "nodes", "rank",
    "ranks", "model", "the", "and", "gpus", "into", "over", "than", "then", "when", "what",
    "each", "only", "were", "been", "also", "more", "less", "same", "some", "used", "uses",
}
TOKEN_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/\-]*")
NUMBER_RE = re.compile(
    r"(?<![A-Za-z0-9_.,])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![A-Za-z0-9_]|,\d)")
WORD_RE = re.compile(r"[A-Za-z][A-Za-z\-]{3,}")
ABBREV_END = re.compile(r"(?:\b(?i:e\.g|i\.e|vs|etc|cf|approx|incl|fig|no)\.|\b[A-Z]\.)$")
FUNCTION_WORDS = {
    "the", "a", "an", "of", "to", "in", "on", "for", "is", "are", "was", "were", "with", "and",
    "so", "because", "which", "that", "we", "i", "it", "its", "by", "per", "from", "at", "as",
    "be", "this", "then", "than", "when", "if", "our", "their", "each", "every", "would",
    "will", "can", "should", "into", "while", "after", "before", "since", "but", "or", "has",
    "have", "do", "does", "there", "they", "them", "one", "all",
}
CLAUSE_BREAK_RE = re.compile(r"[,;:()\[\]]|\bbut\b|\balthough\b|\bwhereas\b", re.I)


# --------------------------------------------------------------------------- text


@dataclass(frozen=True)
class Sentence:
    paragraph: int
    index: int  # position in the whole text
    text: str


def split_sentences(text: str) -> list[Sentence]:
    """Paragraphs on blank lines, list items and line breaks; sentences on . ! ? + space."""
    out: list[Sentence] = []
    for pi, para in enumerate(re.split(r"\n\s*\n", text)):
        for line in re.split(r"\n\s*(?=[-*\u2022]|\d+[.)]\s)|\n", para):
            pending = ""
            for part in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])", line):
                part = (pending + " " + part if pending else part).strip(" \t-*\u2022")
                pending = ""
                if ABBREV_END.search(part):
                    pending = part  # "e.g. 1g.10gb" is one sentence
                    continue
                if part:
                    out.append(Sentence(pi, len(out), part))
            if pending:
                out.append(Sentence(pi, len(out), pending))
    return out


def _phrase_re(phrase: str) -> re.Pattern[str]:
    # A word may carry a plain inflection ("overlaps", "overlapped", "sharding").
    words = [re.escape(w) + (r"(?:s|es|d|ed|ing)?" if w[-1:].isalpha() else "")
             for w in phrase.split()]
    body = r"\s+".join(words)
    return re.compile(r"(?<![A-Za-z0-9])" + body + r"(?![A-Za-z0-9])", re.I)


# --------------------------------------------------------------------------- anchors


@dataclass
class Anchors:
    """What makes a sentence specific to this variant."""

    tokens: set[str] = field(default_factory=set)  # identifiers with a digit (lowercase)
    numbers: set[float] = field(default_factory=set)  # exact numbers in the artifacts
    param_numbers: list[float] = field(default_factory=list)  # numeric parameters
    words: set[str] = field(default_factory=set)  # cause/component words from parameters

    def find(self, sentence: str) -> list[str]:
        found: list[str] = []
        for m in NUMBER_RE.finditer(sentence):
            raw = m.group(0).replace(",", "")
            if not _nontrivial(raw):
                continue
            v = float(raw)
            if _rounded(v) in self.numbers or any(
                    abs(v - p) <= 0.02 * abs(p) for p in self.param_numbers if p):
                found.append(raw)
        for tok in TOKEN_RE.findall(sentence):
            for t in _token_forms(tok):
                if t in self.tokens:
                    found.append(t)
                    break
        for w in WORD_RE.findall(sentence):
            if w.lower() in self.words:
                found.append(w)
        return sorted(set(found))


def _token_forms(tok: str) -> list[str]:
    """An identifier with letters and a digit, and its parts ('H100-SXM-80GB' -> h100, 80gb)."""
    whole = tok.rstrip(".:-/").lower()
    forms = [whole] + [p for p in re.split(r"[-_/.:]", whole) if p != whole]
    return [f for f in forms if len(f) >= 3 and any(c.isdigit() for c in f)
            and any(c.isalpha() for c in f)]


def _nontrivial(raw: str) -> bool:
    digits = raw.replace(".", "").lstrip("0")
    return len(digits) >= 2


def _rounded(v: float) -> float:
    return float(f"{v:.6g}")


def _flatten(value: Any) -> Iterable[Any]:
    if isinstance(value, Mapping):
        for v in value.values():  # names of values are not variant-specific, values are
            yield from _flatten(v)
    elif isinstance(value, list | tuple | set):
        for v in value:
            yield from _flatten(v)
    else:
        yield value


def build_anchors(params: Mapping[str, Any], artifacts: Mapping[str, bytes]) -> Anchors:
    a = Anchors()
    for v in _flatten(params):
        if isinstance(v, bool) or v is None:
            continue
        if isinstance(v, int | float):
            if math.isfinite(v) and _nontrivial(str(abs(v))):
                a.param_numbers.append(float(v))
            continue
        s = str(v)
        for tok in TOKEN_RE.findall(s):
            a.tokens.update(_token_forms(tok))
        for w in re.split(r"[\s_\-/.,:]+", s):
            if len(w) >= 4 and w.isalpha() and w.lower() not in STOPWORDS:
                a.words.add(w.lower())
    budget = ARTIFACT_SCAN_BYTES
    for _path, data in sorted(artifacts.items()):
        if budget <= 0:
            break
        chunk = data[:budget].decode("utf-8", errors="ignore")
        budget -= len(data)
        for tok in TOKEN_RE.findall(chunk):
            a.tokens.update(_token_forms(tok))
        for m in NUMBER_RE.finditer(chunk):
            raw = m.group(0).replace(",", "")
            if _nontrivial(raw):
                a.numbers.add(_rounded(float(raw)))
    return a


def _anchors(ctx: CheckContext) -> Anchors:
    cached = ctx.cache.get("concept_anchors")
    if not isinstance(cached, Anchors):
        values: dict[str, Any] = dict(ctx.params)
        if ctx.answer_key_module is not None:
            # Values the hidden answer key computes for the variant are variant-specific too.
            try:
                values["__answer_key__"] = ctx.answer_key()
            except CheckSetupError:
                pass  # the field checks that need the key report it
        cached = build_anchors(values, ctx.artifacts)
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


def render_phrasings(concept: Concept, params: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
    try:
        phr = [env.from_string(p).render(**params).strip() for p in concept.phrasings]
        con = [env.from_string(p).render(**params).strip() for p in concept.contradicts]
    except Exception as exc:
        raise CheckSetupError(f"concept {concept.id}: phrasing template: "
                              f"{type(exc).__name__}: {exc}") from exc
    return [p for p in phr if p], [c for c in con if c]


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


def text_of(value: Any, section: str | None) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        if section is not None:
            v = value.get(section)
            return v if isinstance(v, str) else ""
        return "\n\n".join(v for v in value.values() if isinstance(v, str))
    return ""


# --------------------------------------------------------------------------- check


def run(check: ConceptsCheck, max_points: float, ctx: CheckContext) -> CheckOutcome:
    text = text_of(ctx.answer.get(check.field), check.section)
    concepts = [c for c in check.concepts if applies(c, ctx.params)]
    if not concepts:
        raise CheckSetupError("no concept applies to this variant")
    if is_blank(text):
        return CheckOutcome(0.0, [Evidence(kind="note", label=c.id, passed=False, credit=0.0,
                                           text="not answered") for c in concepts],
                            status="unanswered", detail="no answer")
    sentences = split_sentences(text)
    anchors = _anchors(ctx)
    rendered = {c.id: render_phrasings(c, ctx.params) for c in check.concepts}
    all_hits = [h for c in check.concepts
                for h in find_hits(sentences, c.id, *rendered[c.id])]
    listlike = _listlike(sentences, all_hits)
    sentence_anchors = {s.index: anchors.find(s.text) for s in sentences}

    def own_anchors(h: Hit) -> list[str]:
        # A concept's own phrasings never make its sentence specific ("thermal slowdown"
        # does not anchor on the cause word "thermal").
        text = h.sentence.text
        for o in all_hits:
            if o.concept == h.concept and o.sentence.index == h.sentence.index:
                text = text[:o.start] + " " * (o.end - o.start) + text[o.end:]
        return anchors.find(text)

    evidence: list[Evidence] = []
    earned = 0.0
    total_w = sum(c.weight for c in concepts)
    unsure = negations = contradictions = 0
    for c in concepts:
        hits = [h for h in all_hits if h.concept == c.id]
        negations += sum(1 for h in hits if h.negated and not h.contradiction)
        contra = [h for h in hits if h.contradiction and not h.negated]
        if contra:
            contradictions += 1
            h = contra[0]
            evidence.append(Evidence(kind="quote", label=c.id, passed=False, credit=0.0,
                                     value={"contradiction": h.phrase},
                                     text=_quote(h.sentence.text)))
            continue
        best: tuple[float, Hit, str, list[str]] | None = None
        for h in hits:
            if h.negated or h.contradiction:
                continue
            credit, basis, anchor = _credit(h.sentence, own_anchors(h), sentences,
                                            sentence_anchors, listlike)
            if best is None or credit > best[0]:
                best = (credit, h, basis, anchor)
        if best is None:
            neg = next((h for h in hits if h.negated), None)
            evidence.append(Evidence(
                kind="quote" if neg else "note", label=c.id, passed=False, credit=0.0,
                value={"negated": neg.phrase} if neg else None,
                text=_quote(neg.sentence.text) if neg else "not found"))
            continue
        credit, h, basis, anchor = best
        if credit < CREDIT_NEAR:
            unsure += 1
        earned += c.weight * credit
        evidence.append(Evidence(
            kind="quote", label=c.id, passed=credit >= CREDIT_NEAR, credit=r4(credit),
            value={"phrase": h.phrase, "basis": basis, "anchors": anchor[:6]},
            text=_quote(h.sentence.text)))

    fraction = earned / total_w if total_w else 0.0
    confidence = 0.9
    if unsure:
        confidence -= 0.35
    if contradictions:
        confidence -= 0.2
    if negations:
        confidence -= 0.1
    words = len(text.split())
    if earned == 0 and words >= 30:
        confidence = 0.4  # a long answer matching nothing may say it in other words
    confidence = max(0.0, min(1.0, confidence))
    found = sum(1 for e in evidence if e.passed)
    detail = (f"{found}/{len(concepts)} concepts in variant-specific sentences"
              + (f", {unsure} only in unspecific ones" if unsure else "")
              + (f", {contradictions} contradicted" if contradictions else "")
              + (f", {negations} negated mentions" if negations else ""))
    return CheckOutcome(r4(fraction * max_points), evidence, confidence=r4(confidence),
                        needs_review=confidence < check.min_confidence, detail=detail)


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
        out[s.index] = covered / total >= LIST_COVERAGE or \
            len(function) < max(2.0, LIST_FUNCTION_SHARE * len(words))
    return out


def _credit(s: Sentence, own: list[str], sentences: list[Sentence],
            anchors: dict[int, list[str]], listlike: dict[int, bool]
            ) -> tuple[float, str, list[str]]:
    if listlike.get(s.index, False):
        return CREDIT_LIST, "list of keywords", []
    if own:
        return CREDIT_ANCHORED, "variant-specific sentence", own
    if len(s.text.split()) < MIN_WORDS:
        return CREDIT_LIST, "too short to say anything specific", []
    near: list[str] = []
    for other in sentences:
        if other.paragraph == s.paragraph and abs(other.index - s.index) == 1 \
                and not listlike.get(other.index, False):
            near += anchors.get(other.index, [])
    if near:
        return CREDIT_NEAR, "next to a variant-specific sentence", sorted(set(near))
    return CREDIT_BARE, "no variant detail", []


def _quote(text: str) -> str:
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "\u2026"
