"""Read ``taxonomy.yml``: the categories notes are tagged with."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from ..diagnostics import Diagnostic
from ..memo import ParseMemo
from ..model import Category, Taxonomy
from .frontmatter import FrontMatterError, parse_yaml

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def read_taxonomy(path: Path, display_path: str = "taxonomy.yml", memo: ParseMemo | None = None) -> tuple[Taxonomy, list[Diagnostic]]:
    """Categories from ``path``; every problem becomes a diagnostic (the taxonomy may be partial).
    ``memo``: where the same text parsed before is found instead of parsed again."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return Taxonomy(()), [Diagnostic(display_path, 0, f"cannot read the taxonomy: {exc}")]
    taxonomy, problems = (memo or ParseMemo()).one(parse_taxonomy, text, display_path)
    return taxonomy, list(problems)


def parse_taxonomy(text: str, display_path: str) -> tuple[Taxonomy, list[Diagnostic]]:
    """The categories a taxonomy's text defines, and the problems with them."""
    try:
        values, lines = parse_yaml(text, first_line=1)
    except FrontMatterError as exc:
        return Taxonomy(()), [Diagnostic(display_path, exc.line, exc.message.replace("front matter", "taxonomy"))]
    entries = values.get("categories") if isinstance(values, dict) else None
    if not isinstance(entries, list) or not entries:
        return Taxonomy(()), [Diagnostic(display_path, 1, "the taxonomy must have a 'categories:' list of {slug, title, description, aliases}")]
    categories, problems, seen = [], [], {}
    for index, entry in enumerate(entries):
        line = lines.get(f"categories[{index}]", 1)
        category, entry_problems = _category(entry, line, display_path)
        problems += entry_problems
        if category is None:
            continue
        for name in (category.slug, *category.aliases):
            if name in seen:
                problems.append(Diagnostic(display_path, line, f"'{name}' is already used by the category at line {seen[name]}; slugs and aliases must be unique"))
            seen.setdefault(name, line)
        categories.append(category)
    return Taxonomy(tuple(categories)), problems


def _category(entry: object, line: int, path: str) -> tuple[Category | None, list[Diagnostic]]:
    if not isinstance(entry, dict):
        return None, [Diagnostic(path, line, "a category must be a mapping with slug, title and description")]
    problems = [Diagnostic(path, line, f"category is missing '{f}'") for f in ("slug", "title", "description") if not entry.get(f)]
    if problems:
        return None, problems
    slug = str(entry["slug"])
    aliases = entry.get("aliases") or []
    if not isinstance(aliases, list):
        return None, [Diagnostic(path, line, f"category '{slug}': aliases must be a list")]
    for name in (slug, *map(str, aliases)):
        if not SLUG.match(name):
            problems.append(Diagnostic(path, line, f"'{name}' is not a valid slug: use lowercase letters, digits and hyphens"))
    category = Category(slug=slug, title=str(entry["title"]), description=str(entry["description"]),
                        aliases=tuple(str(a) for a in aliases), line=line)
    return (None if problems else category), problems
