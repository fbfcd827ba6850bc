"""Assert that HTML is inert: no script-capable elements, handlers or javascript: URLs."""

from __future__ import annotations

from html.parser import HTMLParser

DANGEROUS_TAGS = {"script", "iframe", "object", "embed", "svg", "math", "style", "link", "meta",
                  "base", "form"}


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DANGEROUS_TAGS:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{tag} {name}=")
            v = "".join((value or "").split()).lower()
            if name in ("href", "src", "action", "formaction", "xlink:href") and \
                    v.startswith(("javascript:", "vbscript:", "data:text/html")):
                self.problems.append(f"{tag} {name}={value}")


def inert_problems(html: str) -> list[str]:
    parser = _Collect()
    parser.feed(html)
    return parser.problems


def test_the_checker_finds_what_it_should() -> None:
    assert inert_problems('<p onclick="x">a</p><a href=" javascript:alert(1)">b</a><script>'
                          ) == ["p onclick=", "a href= javascript:alert(1)", "<script>"]
    assert inert_problems("<p>&lt;script&gt; onerror= javascript:</p>") == []
