"""What makes a sentence specific to a variant: its identifiers, cause words and stated figures."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graders.checks import claims

ARTIFACT_SCAN_BYTES = 8 * 1024 * 1024
STOPWORDS = {
    "with", "from", "that", "this", "have", "none", "true", "false", "node", "nodes", "rank",
    "ranks", "model", "the", "and", "gpus", "into", "over", "than", "then", "when", "what",
    "each", "only", "were", "been", "also", "more", "less", "same", "some", "used", "uses",
}
TOKEN_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/\-]*")
WORD_RE = re.compile(r"[A-Za-z][A-Za-z\-]{3,}")
_LETTER_AND_DIGIT = re.compile(r"(?=.*[A-Za-z])(?=.*[0-9])")


@dataclass
class Anchors:
    """What makes a sentence specific to this variant.

    Identifiers of the variant (node names, GPU models) and cause words of its string
    parameters, plus any number stated with a unit or as an equation: a figure the
    candidate derived is specific even when it appears nowhere in the parameters. A bare
    number is not: that "100" also occurs in the parameters says nothing (the claims of a
    concept check the numbers that matter).
    """

    tokens: set[str] = field(default_factory=set)  # identifiers with a digit (lowercase)
    words: set[str] = field(default_factory=set)  # cause/component words from parameters
    _found: dict[str, list[str]] = field(default_factory=dict, repr=False, compare=False)

    def find(self, sentence: str) -> list[str]:
        # Every concepts check of an answer reads the whole field: the same sentences come
        # back once per check, so each is scanned once per grading.
        hit = self._found.get(sentence)
        if hit is None:
            hit = self._found[sentence] = self._find(sentence)
        return list(hit)

    def _find(self, sentence: str) -> list[str]:
        found = [c.text for c in claims.extract(sentence)]
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
    if not _LETTER_AND_DIGIT.match(tok):  # no part of it can have both
        return []
    whole = tok.rstrip(".:-/").lower()
    forms = [whole] + [p for p in re.split(r"[-_/.:]", whole) if p != whole]
    return [f for f in forms if len(f) >= 3 and any(c.isdigit() for c in f)
            and any(c.isalpha() for c in f)]


def _flatten(value: Any, key: str = "") -> Iterable[tuple[str, Any]]:
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield from _flatten(v, str(k))
    elif isinstance(value, list | tuple | set):
        for v in value:
            yield from _flatten(v, key)
    else:
        yield key, value


# Parameters that name things (example ids, titles, file names) are not claims of the
# variant: the word "many" of an example id "many-small" must never anchor a sentence.
NAME_KEY_RE = re.compile(r"(?:^|_)(?:ids?|examples?|names?|titles?|files?|paths?|labels?)$")


def build_anchors(params: Mapping[str, Any], artifacts: Mapping[str, bytes]) -> Anchors:
    a = Anchors()
    for key, v in _flatten(params):
        if isinstance(v, bool) or v is None or isinstance(v, int | float):
            continue
        s = str(v)
        for tok in set(TOKEN_RE.findall(s)):
            a.tokens.update(_token_forms(tok))
        if NAME_KEY_RE.search(key):
            continue
        for w in re.split(r"[\s_\-/.,:]+", s):
            if len(w) >= 4 and w.isalpha() and w.lower() not in STOPWORDS:
                a.words.add(w.lower())
    budget = ARTIFACT_SCAN_BYTES
    for _path, data in sorted(artifacts.items()):
        if budget <= 0:
            break
        chunk = data[:budget].decode("utf-8", errors="ignore")
        budget -= len(data)
        # Logs repeat their identifiers on every line: each distinct token is split once.
        for tok in set(TOKEN_RE.findall(chunk)):
            a.tokens.update(_token_forms(tok))
    return a
