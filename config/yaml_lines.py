"""YAML loading that remembers the line of every value, for error messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

Path_ = tuple[str | int, ...]


class YamlSyntaxError(ValueError):
    pass


def load_with_lines(path: Path) -> tuple[Any, dict[Path_, int]]:
    """Parse ``path``; return the data and a map from key path to 1-based line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise YamlSyntaxError(f"{path}: no such file") from exc
    except UnicodeDecodeError as exc:
        raise YamlSyntaxError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise YamlSyntaxError(f"{where}: YAML syntax error: {problem}") from exc
    lines: dict[Path_, int] = {}
    if node is None:
        return None, lines
    return _construct(node, (), lines, path, yaml.SafeLoader("")), lines


def _construct(
    node: yaml.Node, at: Path_, lines: dict[Path_, int], path: Path, loader: yaml.SafeLoader
) -> Any:
    lines[at] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node)
            if key in result:
                raise YamlSyntaxError(f"{path}:{key_node.start_mark.line + 1}: duplicate key {key!r}")
            lines[at + (key,)] = key_node.start_mark.line + 1
            result[key] = _construct(value_node, at + (key,), lines, path, loader)
            lines[at + (key,)] = key_node.start_mark.line + 1  # the key's line, not its value's
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, at + (index,), lines, path, loader) for index, item in enumerate(node.value)]
    return loader.construct_object(node)


def line_of(lines: dict[Path_, int], at: Path_) -> int | None:
    """The line of ``at`` or of its nearest ancestor that has one."""
    at = tuple(at)
    while True:
        if at in lines:
            return lines[at]
        if not at:
            return None
        at = at[:-1]
