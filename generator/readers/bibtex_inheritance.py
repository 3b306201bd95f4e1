"""Fields an entry inherits, as biber resolves them: ``xdata = {a, b}`` copies every field of the
``@xdata`` entries named, ``crossref = {parent}`` every field of the parent entry that the child
does not set itself; an in-book child (``@inproceedings``, ``@incollection``, ``@inbook``) takes
the parent's ``title`` as its ``booktitle``. A field the entry sets itself always wins."""
from __future__ import annotations

from dataclasses import dataclass

# never copied from a parent: they are about the parent entry itself (biber's defaults)
NOT_INHERITED = {"crossref", "xdata", "xref", "ids", "entryset", "label", "options", "shorthand",
                 "sortkey", "presort", "related", "key"}
IN_BOOK = {"inproceedings", "incollection", "inbook", "conference", "suppbook", "suppcollection"}


@dataclass(frozen=True)
class Raw:
    """One entry's type and resolved fields (lowercase names), before inheritance."""

    entry_type: str
    fields: dict[str, str]
    line: int


@dataclass(frozen=True)
class Inherited:
    fields: dict[str, str]
    problems: tuple[str, ...] = ()  # what went wrong, for a diagnostic at the entry's line


def inherit(key: str, entries: dict[str, Raw]) -> Inherited:
    """``key``'s fields with what its xdata entries and crossref parent give it."""
    return _inherit(key, entries, ())


def _inherit(key: str, entries: dict[str, Raw], chain: tuple[str, ...]) -> Inherited:
    entry = entries[key]
    fields = dict(entry.fields)
    problems: list[str] = []
    for name in ("xdata", "crossref"):
        for parent_key in _keys(fields.get(name, "")) if name == "xdata" else [fields.get(name, "").strip()]:
            if not parent_key:
                continue
            if parent_key in chain or parent_key == key:
                problems.append(f"{name} leads in a circle ({' -> '.join((*chain, key, parent_key))}); remove one link")
                continue
            if parent_key not in entries:
                problems.append(f"{name} '{parent_key}' names no entry in this file; add it, or remove the {name} field")
                continue
            parent = _inherit(parent_key, entries, (*chain, key))
            problems += [p for p in parent.problems if "in a circle" in p]  # the parent reports the rest itself
            for field, value in _given(entry.entry_type, parent.fields).items():
                fields.setdefault(field, value)
    return Inherited(fields, tuple(problems))


def _given(child_type: str, parent: dict[str, str]) -> dict[str, str]:
    given = {k: v for k, v in parent.items() if k not in NOT_INHERITED}
    if child_type in IN_BOOK and "title" in given:
        given.setdefault("booktitle", given["title"])
        given.pop("title")
    return given


def _keys(text: str) -> list[str]:
    return [k.strip() for k in text.split(",") if k.strip()]
