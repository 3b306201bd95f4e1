"""Split a note into YAML front matter and body, keeping the line of every front-matter value."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

# libyaml's parser when PyYAML was built with it (the wheels are): the same nodes and marks, and
# about ten times faster than the pure-Python one (YAML was a fifth of loading 75 notes). Text it
# refuses is parsed again by the pure-Python parser, whose messages are the clearer ones
# ("expected ',' or ']', but got ':'", "found character '\t'").
FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class FrontMatter:
    """``values`` as YAML gives them; ``lines`` maps a value's path (``tags``, ``tags[1]``,
    ``citations.count``) to its 1-based line in the file."""

    values: dict[str, Any]
    lines: dict[str, int] = field(default_factory=dict)
    body: str = ""
    body_line: int = 1  # file line of the body's first line
    end_line: int = 1  # line of the closing ---

    def line_of(self, path: str, default: int = 1) -> int:
        return self.lines.get(path, self.lines.get(path.split("[")[0].split(".")[0], default))


class FrontMatterError(Exception):
    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


def split(text: str) -> FrontMatter:
    """Parse ``---\\n<yaml>\\n---\\n<body>``. Raises ``FrontMatterError`` with a line on bad input."""
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip("\r\n").rstrip() != "---":
        raise FrontMatterError(1, "no front matter: a note must start with a '---' line, then YAML (tags, tldr, ...), then '---'")
    for n, line in enumerate(lines[1:], start=1):
        if line.rstrip("\r\n").rstrip() in ("---", "..."):
            yaml_text = "".join(lines[1:n])
            values, value_lines = parse_yaml(yaml_text, first_line=2)
            body = "".join(lines[n + 1:]).replace("\r\n", "\n")
            return FrontMatter(values, value_lines, body, body_line=n + 2, end_line=n + 1)
    raise FrontMatterError(1, "front matter is never closed: add a '---' line after the YAML")


def parse_yaml(text: str, first_line: int, loader_class: type = FAST_LOADER) -> tuple[dict[str, Any], dict[str, int]]:
    """Parse once: compose the node tree (for lines), refuse aliases, then construct the values."""
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return {}, {}
        if not isinstance(node, yaml.MappingNode):
            raise FrontMatterError(first_line, "front matter must be a YAML mapping of fields (tags: ..., tldr: ...)")
        _refuse_aliases(node, first_line)
        lines: dict[str, int] = {}
        _record_lines(node, "", first_line, lines)
        values = loader.construct_document(node)
    except yaml.YAMLError as exc:
        if loader_class is not yaml.SafeLoader:
            return parse_yaml(text, first_line, yaml.SafeLoader)
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = first_line + mark.line if mark else first_line
        problem = getattr(exc, "problem", None) or str(exc)
        hint = " (YAML indents with spaces, never tabs)" if "\t" in text else ""
        raise FrontMatterError(line, f"front matter is not valid YAML: {problem}{hint}") from None
    finally:
        loader.dispose()
    return values, lines


def _refuse_aliases(root: yaml.Node, first_line: int) -> None:
    """An alias makes the composer reuse a node: seeing one node twice means ``*alias`` was used."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            raise FrontMatterError(first_line + node.start_mark.line,
                                   "YAML anchors and aliases (&name, *name) are not allowed in front matter; write the value out")
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            stack.extend(n for pair in node.value for n in pair)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def _record_lines(node: yaml.Node, path: str, first_line: int, lines: dict[str, int]) -> None:
    """Record the line of each child of ``node``: a mapping's keys, a sequence's items."""
    if isinstance(node, yaml.MappingNode):
        children = [(f"{path}.{k.value}" if path else str(k.value), k, v) for k, v in node.value]
        seen: dict[str, int] = {}
        for child_path, key, _ in children:
            line = first_line + key.start_mark.line
            if child_path in seen:
                raise FrontMatterError(line, f"field '{child_path}' is given twice (first at line {seen[child_path]}); keep one")
            seen[child_path] = line
    elif isinstance(node, yaml.SequenceNode):
        children = [(f"{path}[{i}]", item, item) for i, item in enumerate(node.value)]
    else:
        return
    for child_path, where, value in children:
        lines[child_path] = first_line + where.start_mark.line
        _record_lines(value, child_path, first_line, lines)
