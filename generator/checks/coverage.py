"""Relate checks to the notes' equations: unknown ids are errors; uncovered equations are reported."""
from __future__ import annotations

from dataclasses import dataclass

from ..diagnostics import Diagnostic, did_you_mean
from ..model import KnowledgeBase
from .discover import CheckSpec


@dataclass(frozen=True)
class Equation:
    id: str  # note-key/label
    note: str
    label: str
    line: int
    tex: str


@dataclass(frozen=True)
class Coverage:
    equations: tuple[Equation, ...]
    checked: dict[str, tuple[str, ...]]  # equation id -> ids of the checks that verify it
    evaluated: frozenset[str]  # equation ids whose check evaluates the note's own LaTeX
    unchecked: dict[str, str]  # equation id -> reason given in the note
    uncovered: tuple[Equation, ...]


def equations(kb: KnowledgeBase) -> list[Equation]:
    return [Equation(f"{n.key}/{f.label}", n.key, f.label, f.line, f.tex)
            for n in kb.notes.values() for f in n.formulas if f.label]


def unknown_equations(specs: list[CheckSpec], known: set[str]) -> list[Diagnostic]:
    """A check that names an equation no note has is an error (the build fails on it)."""
    return [Diagnostic(spec.file, b.line, f"{spec.function} names unknown equation `{b.equation}`{did_you_mean(b.equation, known)}; "
                                          f"equation ids are note-key/label, the label written as {{#eq:label}} after the formula")
            for spec in specs for b in spec.bindings if b.equation not in known]


def coverage(kb: KnowledgeBase, specs: list[CheckSpec]) -> Coverage:
    all_equations = equations(kb)
    checked: dict[str, list[str]] = {}
    evaluated = set()
    for spec in specs:
        for binding in spec.bindings:
            checked.setdefault(binding.equation, []).append(spec.id)
            if binding.evaluates:
                evaluated.add(binding.equation)
    unchecked = {f"{n.key}/{label}": reason for n in kb.notes.values() for label, reason in n.unchecked}
    uncovered = tuple(e for e in all_equations if e.id not in checked and e.id not in unchecked)
    return Coverage(tuple(all_equations), {k: tuple(v) for k, v in checked.items()}, frozenset(evaluated), unchecked, uncovered)
