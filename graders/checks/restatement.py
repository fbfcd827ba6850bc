"""Sentences of an answer that restate the prompt: near-copies of one of its sentences.

The prompt is public to the candidate: pasting it (or a sentence of it with a word changed)
is no evidence of understanding, so the concepts check gives such a sentence no credit.

A candidate sentence restates the prompt when, over its content tokens (lower-cased words
and numbers, function words dropped, Markdown and punctuation ignored), one prompt sentence
(or two adjacent ones: a paste may join them)

- holds at least RESTATE_SHARE of them in order (longest common subsequence), and
- holds at least BIGRAM_SHARE of its adjacent token pairs (so the shared tokens are runs of
  the prompt's own wording, not scattered words and figures).

A sentence that quotes the prompt's figures inside its own reasoning ("at 80 requests/s and
800 output tokens a replica decodes 48k tokens/s, ...") shares its numbers but not its word
order or pairs, and counts as usual. A sentence of fewer than MIN_TOKENS content tokens
restates the prompt only when copied verbatim (its words, all of them, a run of the
prompt's) and at least SHORT_WORDS words long: a terse note is not judged by resemblance.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from graders.checks.sentences import split_sentences

RESTATE_SHARE = 0.8  # of the candidate sentence's content tokens, in order in one prompt unit
BIGRAM_SHARE = 0.5  # of its adjacent token pairs found in that unit
MIN_TOKENS = 6
SHORT_WORDS = 3  # a shorter piece ("Chunked prefill.") is never judged a copy

TOKEN_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?|[a-z]+")
STOP = {
    "the", "a", "an", "of", "to", "in", "on", "for", "is", "are", "was", "were", "with", "and",
    "so", "which", "that", "we", "i", "it", "its", "by", "at", "as", "be", "this", "or",
    "our", "your", "you", "their", "each", "will", "can", "into", "has", "have", "there",
    "they", "them", "s",
}
# A line that starts a new unit in Markdown: a list item, a table row, a heading, a quote.
BLOCK_START_RE = re.compile(r"(?<!\n)\n(?!\s*(?:[-*+\u2022]\s|\d+[.)]\s|\||#|>|\n))[ \t]*")


@dataclass(frozen=True)
class PromptUnit:
    text: str
    tokens: tuple[str, ...]
    bigrams: frozenset[tuple[str, str]]


def tokens(text: str) -> list[str]:
    """Content tokens: lower-cased words and numbers, function words dropped."""
    return [t for t in TOKEN_RE.findall(text.lower()) if t not in STOP]


def _bigrams(toks: tuple[str, ...] | list[str]) -> set[tuple[str, str]]:
    return set(zip(toks, toks[1:], strict=False))


def _unit(text: str, toks: tuple[str, ...]) -> PromptUnit:
    return PromptUnit(text, toks, frozenset(_bigrams(toks)))


def _plain(markdown: str) -> str:
    """The prompt as a candidate reads it: hard-wrapped lines joined, emphasis dropped."""
    text = markdown.replace("\r\n", "\n")
    text = re.sub(r"\*\*|__|`", "", text)
    text = re.sub(r"(?m)^\s*#+\s*", "", text)
    return BLOCK_START_RE.sub(" ", text)


@functools.lru_cache(maxsize=64)
def prompt_units(prompt: str) -> tuple[PromptUnit, ...]:
    """The prompt's sentences (same splitter as answers), and each adjacent pair joined."""
    if not prompt.strip():
        return ()
    sents = [s.text for s in split_sentences(_plain(prompt))]
    toks = [tuple(tokens(s)) for s in sents]
    out = [_unit(s, t) for s, t in zip(sents, toks, strict=True) if t]
    out += [_unit(sents[i] + " " + sents[i + 1], toks[i] + toks[i + 1])
            for i in range(len(sents) - 1) if toks[i] and toks[i + 1]]
    return tuple(out)


def _lcs(a: list[str], b: tuple[str, ...]) -> int:
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def _squash(text: str) -> str:
    return "".join(TOKEN_RE.findall(text.lower()))


@functools.lru_cache(maxsize=64)
def _squashed(units: tuple[PromptUnit, ...]) -> tuple[str, tuple[str, ...]]:
    parts = tuple(_squash(u.text) for u in units)
    return "|".join(parts), parts


def restated(text: str, units: tuple[PromptUnit, ...]) -> PromptUnit | None:
    """The prompt unit this sentence is a near-copy of, or None."""
    if not units:
        return None
    toks = tokens(text)
    if len(toks) < MIN_TOKENS:
        # A short piece is judged only when copied verbatim (a fragment of a hard-wrapped
        # line pasted from the Markdown, "A replica is"): at least SHORT_WORDS words.
        flat = _squash(text)
        if not toks or len(TOKEN_RE.findall(text.lower())) < SHORT_WORDS:
            return None
        whole, parts = _squashed(units)
        if flat not in whole:
            return None
        return next((u for u, p in zip(units, parts, strict=True) if flat in p), units[0])
    need = RESTATE_SHARE * len(toks)
    pairs = _bigrams(toks)
    bag = set(toks)
    best: tuple[float, PromptUnit] | None = None
    for u in units:
        if sum(1 for t in toks if t in u.tokens) < need:
            continue  # cheap bound before the quadratic subsequence
        if pairs and len(pairs & u.bigrams) < BIGRAM_SHARE * len(pairs):
            continue
        common = _lcs(toks, u.tokens)
        if common >= need:
            # prefer the tightest unit (a single sentence over a joined pair)
            score = common / len(toks) - 0.001 * len(set(u.tokens) - bag)
            if best is None or score > best[0]:
                best = (score, u)
    return None if best is None else best[1]
