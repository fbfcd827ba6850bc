"""YAML loading that remembers where every value came from (for error line numbers)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml


@dataclass(frozen=True)
class YamlDoc:
    data: Any
    node: yaml.Node | None

    def line_of(self, loc: tuple[Any, ...]) -> int | None:
        """1-based line of the value at a pydantic-style loc; nearest existing parent if absent."""
        node = self.node
        if node is None:
            return None
        line = node.start_mark.line + 1
        for i, part in enumerate(loc):
            if isinstance(node, yaml.MappingNode):
                hit = None
                for k, v in node.value:
                    if isinstance(k, yaml.ScalarNode) and k.value == str(part):
                        hit = (k, v)
                        break
                if hit is None:
                    # A discriminated-union tag ('integer', 'field', ...) is no YAML key:
                    # skip it; a missing key reports the line of its parent mapping.
                    continue
                key, node = hit
                # A missing or wrong nested value is best shown at its key's line.
                line = key.start_mark.line + 1 if i == len(loc) - 1 else node.start_mark.line + 1
                if not isinstance(node, yaml.MappingNode | yaml.SequenceNode):
                    line = key.start_mark.line + 1
            elif isinstance(node, yaml.SequenceNode):
                if isinstance(part, int) and 0 <= part < len(node.value):
                    node = node.value[part]
                    line = node.start_mark.line + 1
                else:
                    continue
            else:
                break
        return line


class YamlError(Exception):
    def __init__(self, reason: str, line: int | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


def load_yaml(text: str) -> YamlDoc:
    """Parse YAML text; raise YamlError with the line of a syntax error."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise YamlError(f"YAML syntax: {exc.problem or exc}", line) from None
    except yaml.YAMLError as exc:
        raise YamlError(f"YAML syntax: {exc}", None) from None
    return YamlDoc(data=data, node=node)
