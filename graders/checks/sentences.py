"""Sentences of an answer: paragraphs, list items and sentences, and clauses of long ones."""

from __future__ import annotations

import re
from dataclasses import dataclass

ABBREV_END = re.compile(r"(?:\b(?i:e\.g|i\.e|vs|etc|cf|approx|incl|fig|no)\.|\b[A-Z]\.)$")
CLAUSE_MIN_WORDS = 4
# A clause opening with one of these is a condition or a topic ("For the KV cache", "When
# demand exceeds the budget"): it asserts nothing alone, so it is embedded with the clause
# that follows. Alone, "For the KV cache" sat at 0.65-0.77 of every KV exemplar and earned
# concepts for a sentence that stated something false about them.
LEADING_MAX_WORDS = 6  # a longer clause is a statement of its own ("On ufm-01 set ...")
LEADING_RE = re.compile(r"^(?:for|when|whenever|if|since|with|as|once|after|before|while|"
                        r"although|though|unless|given|in|on|at|by|under|during|to|from|"
                        r"because|whether|where)\b", re.IGNORECASE)
CLAUSE_SPLIT_WORDS = 20  # sentences longer than this are embedded clause by clause


@dataclass(frozen=True)
class Sentence:
    paragraph: int
    index: int  # position in the whole text
    text: str
    section: str | None = None


def split_sentences(text: str, section: str | None = None, start: int = 0,
                    para0: int = 0) -> list[Sentence]:
    """Paragraphs on blank lines, list items and line breaks; sentences on . ! ? + space."""
    out: list[Sentence] = []
    for pi, para in enumerate(re.split(r"\n\s*\n", text), start=para0):
        for line in re.split(r"\n\s*(?=[-*\u2022]|\d+[.)]\s)|\n", para):
            pending = ""
            for part in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])", line):
                part = (pending + " " + part if pending else part).strip(" \t-*\u2022")
                pending = ""
                if ABBREV_END.search(part):
                    pending = part  # "e.g. 1g.10gb" is one sentence
                    continue
                if part:
                    out.append(Sentence(pi, start + len(out), part, section))
            if pending:
                out.append(Sentence(pi, start + len(out), pending, section))
    return out


def split_sections(sections: list[tuple[str | None, str]]) -> list[Sentence]:
    """Sentences of several sections, numbered through; paragraphs never span sections."""
    out: list[Sentence] = []
    para = 0
    for name, text in sections:
        part = split_sentences(text, name, len(out), para)
        out += part
        para = (max(s.paragraph for s in part) + 1) if part else para
    return out


def clauses(text: str) -> list[str]:
    """A long sentence's clauses (on ; : and commas), short pieces merged into their left."""
    if len(text.split()) <= CLAUSE_SPLIT_WORDS:
        return []
    pieces = [p.strip() for p in re.split(r"[;:]\s+|,\s+|\s+(?=because\b|so that\b|which\b|"
                                          r"whereas\b|while\b|but\b)", text) if p.strip()]
    out: list[str] = []
    for p in pieces:
        if out and len(p.split()) < CLAUSE_MIN_WORDS:
            out[-1] += ", " + p
        else:
            out.append(p)
    if out and len(out[0].split()) < CLAUSE_MIN_WORDS and len(out) > 1:
        out[1] = out[0] + ", " + out[1]
        out.pop(0)
    merged: list[str] = []
    carry = ""
    for i, piece in enumerate(out):
        joined = carry + ", " + piece if carry else piece
        carry = ""
        if i + 1 < len(out) and LEADING_RE.match(piece) and len(piece.split()) <= LEADING_MAX_WORDS:
            carry = joined  # a condition or topic: joined with the clause that follows
            continue
        merged.append(joined)
    return merged if len(merged) > 1 else []
