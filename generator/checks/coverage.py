"""Relate checks to the notes' equations: unknown ids are errors; uncovered equations are reported."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..diagnostics import Diagnostic, did_you_mean
from ..model import KnowledgeBase
from .discover import CheckSpec
from .results import CheckResult


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
    evaluated: frozenset[str]  # equation ids whose LaTeX a passing check evaluated and compared, by its run's record
    unchecked: dict[str, str]  # equation id -> reason given in the note
    uncovered: tuple[Equation, ...]
    not_evaluated: dict[str, str] = field(default_factory=dict)  # equation id -> why its check cannot evaluate it

    @property
    def bound(self) -> tuple[Equation, ...]:
        """Checked equations whose check ran code written for the formula, not the formula itself."""
        return tuple(e for e in self.equations if e.id in self.checked and e.id not in self.evaluated)

    @property
    def bound_without_reason(self) -> tuple[Equation, ...]:
        return tuple(e for e in self.bound if e.id not in self.not_evaluated)


def equations(kb: KnowledgeBase) -> list[Equation]:
    return [Equation(f"{n.key}/{f.label}", n.key, f.label, f.line, f.tex)
            for n in kb.notes.values() for f in n.formulas if f.label]


def unknown_equations(specs: list[CheckSpec], known: set[str]) -> list[Diagnostic]:
    """A check that names an equation no note has is an error (the build fails on it)."""
    return [Diagnostic(spec.file, b.line, f"{spec.function} names unknown equation `{b.equation}`{did_you_mean(b.equation, known)}; "
                                          f"equation ids are note-key/label, the label written as {{#eq:label}} after the formula")
            for spec in specs for b in spec.bindings if b.equation not in known]


def coverage(kb: KnowledgeBase, specs: list[CheckSpec], results: dict[str, CheckResult] | None = None) -> Coverage:
    """Which equations are checked (by the snippets' bindings) and which were evaluated from the note's
    LaTeX: decided by what the passing runs in ``results`` (check id -> current result) recorded."""
    all_equations = equations(kb)
    checked: dict[str, list[str]] = {}
    evaluated = set()
    for spec in specs:
        for binding in spec.bindings:
            checked.setdefault(binding.equation, []).append(spec.id)
        result = (results or {}).get(spec.id)
        if result is not None and result.status == "passed":
            evaluated.update(e for e in result.evaluated if e in spec.equations)
    unchecked = {f"{n.key}/{label}": reason for n in kb.notes.values() for label, reason in n.unchecked}
    not_evaluated = {f"{n.key}/{label}": reason for n in kb.notes.values() for label, reason in n.not_evaluated}
    uncovered = tuple(e for e in all_equations if e.id not in checked and e.id not in unchecked)
    return Coverage(tuple(all_equations), {k: tuple(v) for k, v in checked.items()}, frozenset(evaluated), unchecked, uncovered,
                    not_evaluated)
