"""``papernotes check``: select checks, run them, record results, relate them to the equations."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..diagnostics import Diagnostic
from ..memo import ParseMemo
from ..model import KnowledgeBase
from ..project import Project
from .coverage import Coverage, coverage, equations, unknown_equations
from .discover import CheckSpec, discover
from .results import CheckResult, load_results, save_results
from .runner import Cache, Environment, Limits, run_all


@dataclass(frozen=True)
class Options:
    selection: tuple[str, ...] = ()  # note keys or equation ids; empty = everything
    device: str = "auto"
    jobs: int = 2
    shard: tuple[int, int] = (1, 1)  # (k, n): run the k-th of n slices
    refresh: bool = False
    limits: Limits = Limits()


@dataclass(frozen=True)
class SuiteReport:
    results: list[CheckResult]
    coverage: Coverage | None
    problems: list[Diagnostic]
    environment: Environment | None = None

    @property
    def failed(self) -> list[CheckResult]:
        return [r for r in self.results if not r.ok]


def select(specs: list[CheckSpec], selection: tuple[str, ...], shard: tuple[int, int]) -> list[CheckSpec]:
    chosen = [s for s in specs if not selection or s.key in selection or s.id in selection
              or any(e in selection for e in s.equations)]
    k, n = shard
    return [s for i, s in enumerate(sorted(chosen, key=lambda s: s.id)) if i % n == k - 1]


def unknown_selection(specs: list[CheckSpec], kb: KnowledgeBase, selection: tuple[str, ...]) -> list[Diagnostic]:
    known = set(kb.notes) | {s.id for s in specs} | {e for s in specs for e in s.equations}
    return [Diagnostic("papernotes check", 0, f"'{item}' is neither a note key, a check nor a checked equation id")
            for item in selection if item not in known]


def run_suite(project: Project, kb: KnowledgeBase, options: Options,
              progress: Callable[[CheckResult, int, int], None] | None = None,
              memo: ParseMemo | None = None) -> SuiteReport:
    """``memo``: where the snippets parsed before are found (a warm run parses none)."""
    specs, problems = discover(project.root, set(kb.notes), memo)
    problems += unknown_equations(specs, {e.id for e in equations(kb)})
    problems += unknown_selection(specs, kb, options.selection)
    if problems:
        return SuiteReport([], None, problems)
    environment = Environment.detect(options.device)
    note_tex = {e.id: e.tex for e in equations(kb)}
    chosen = select(specs, options.selection, options.shard)
    results = run_all(project.root, chosen, environment, Cache(project.check_cache), note_tex,
                      jobs=options.jobs, limits=options.limits, refresh=options.refresh, progress=progress, memo=memo)
    recorded = load_results(project.check_results)
    recorded.update({r.check: r for r in results})
    known = {s.id for s in specs}
    current = {k: v for k, v in recorded.items() if k in known}
    save_results(project.check_results, current)
    return SuiteReport(results, coverage(kb, specs, current), [], environment)
