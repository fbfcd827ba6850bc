"""The report as an interviewer's write-up: a candidate's Markdown rendered and sanitized,
with the sentences that earned points marked, and evidence said in words."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_MD = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
# Private-use characters mark where a highlighted sentence starts and ends while the text
# goes through Markdown; a candidate's own text cannot smuggle them in (they are dropped).
_OPEN, _CLOSE = "\ue000", "\ue001"
_TAGS = {*nh3.ALLOWED_TAGS, "mark"}
_ATTRS: dict[str, set[str]] = {**{k: set(v) for k, v in nh3.ALLOWED_ATTRIBUTES.items()},
                               "mark": {"class", "id", "title"}}


@dataclass
class Highlight:
    """A sentence of the answer that earned (or lost) credit, and the criterion it belongs to."""

    text: str
    anchor: str  # id of the <mark>, linked from the criterion's evidence
    title: str  # what it was credited for (tooltip)
    found: bool = field(default=False)


def _pattern(sentence: str) -> re.Pattern[str] | None:
    words = sentence.split()
    if len(words) < 2:
        return None
    return re.compile(r"\s+".join(re.escape(w) for w in words))


def render_markdown(text: str, highlights: list[Highlight] | None = None) -> Markup:
    """Markdown -> sanitized HTML; each highlight's sentence found in `text` becomes a <mark>
    (marked found). Raw HTML in the source is shown as text, as on the candidate's side."""
    source = text.replace(_OPEN, "").replace(_CLOSE, "")
    marks: list[tuple[int, int, Highlight]] = []
    for h in highlights or []:
        pat = _pattern(h.text)
        m = pat.search(source) if pat else None
        if m and not any(s < m.end() and m.start() < e for s, e, _ in marks):
            marks.append((m.start(), m.end(), h))
            h.found = True
    marks.sort(key=lambda x: x[0])
    out, last = [], 0
    for i, (s, e, _) in enumerate(marks):
        out += [source[last:s], f"{_OPEN}{i}{_CLOSE}", source[s:e], f"{_OPEN}/{_CLOSE}"]
        last = e
    out.append(source[last:])
    html = _MD.render("".join(out))
    for i, (_, _, h) in enumerate(marks):
        title = h.title.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
        html = html.replace(f"{_OPEN}{i}{_CLOSE}",
                            f'<mark class="earned" id="{h.anchor}" title="{title}">', 1)
    html = html.replace(f"{_OPEN}/{_CLOSE}", "</mark>")
    # nh3 (html5ever) also closes a <mark> a Markdown element cut in two.
    return Markup(nh3.clean(html, tags=_TAGS, attributes=_ATTRS))


def humanize(label: str) -> str:
    """'est_memory_gib' -> 'est memory GiB'; 'estimate:step_time_s' -> 'estimate: step time s'."""
    text = label.replace(":", ": ").replace("_", " ")
    return re.sub(r"\bgib\b", "GiB", re.sub(r"\bgb\b", "GB", text))


def value_text(value: Any) -> str:
    """A value as a person reads it: numbers rounded, mappings as 'k = v', lists joined."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dict):
        return ", ".join(f"{humanize(str(k))} = {value_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(value_text(v) for v in value)
    return str(value)


def quote_facts(value: Any) -> dict[str, Any]:
    """What a concept check says about a quoted sentence (its evidence value), in words:
    how it matched, the variant details it names, a checked claim, or why it waits."""
    if not isinstance(value, dict):
        return {}
    facts: dict[str, Any] = {}
    if value.get("matched"):
        facts["matched"] = str(value["matched"])
    if value.get("basis"):
        facts["basis"] = str(value["basis"])
    anchors = value.get("anchors")
    if anchors:
        facts["anchors"] = ", ".join(str(a) for a in anchors)
    if value.get("claim") is not None:
        facts["claim"] = (f"“{value['claim']}”: stated {value_text(value.get('stated'))}, "
                          f"checked value {value_text(value.get('expected'))}")
    if value.get("awaiting_review"):
        facts["awaiting"] = str(value["awaiting_review"])
    looked = value.get("looked_for")
    if isinstance(looked, dict) and looked.get("description"):
        facts["looked_for"] = str(looked["description"])
    if value.get("section"):
        facts["section"] = str(value["section"])
    return facts


def case_input(text: str | None) -> tuple[str, str]:
    """A test case's evidence text 'input: SUMMARY | DETAIL' -> (summary, detail)."""
    body = (text or "").removeprefix("input: ")
    summary, _, detail = body.partition(" | ")
    return summary, detail
