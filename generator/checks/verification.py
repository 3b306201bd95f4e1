"""What the site says about each equation and check: the results joined with the current snippets."""
from __future__ import annotations

import platform
from collections import defaultdict
from dataclasses import dataclass, field

from ..content_cache import digest
from ..file_digests import FileDigests
from ..memo import ParseMemo
from ..model import KnowledgeBase
from ..project import Project
from .coverage import Coverage, coverage
from .discover import CheckSpec
from .results import CheckResult, load_results
from .runner import Environment, SnippetSources, cache_key

BADGES = {
    "passed": ("verified", "✓ verified on {device}"),  # with the kind of check: see KINDS
    "failed": ("failed", "✗ check failed"),
    "error": ("failed", "✗ check errored"),
    "timeout": ("failed", "✗ check timed out"),
    "skipped": ("skipped", "skipped: needs CUDA"),
    "not-run": ("not-run", "not run"),
}


# How a passing check verified an equation, as the badge says it.
KINDS = {
    "evaluated": ("✓ evaluated from this formula on {device}",
                  "The check evaluated this formula's own LaTeX and compared the result with an independent reference, "
                  "so a wrong formula here would fail it"),
    "bound": ("✓ checked by code for this formula on {device}",
              "The check runs code written for this formula (bound to its text: editing the formula stops the check "
              "until it is reviewed); it does not evaluate the LaTeX itself"),
}


@dataclass(frozen=True)
class Badge:
    state: str  # verified | failed | skipped | not-run | unchecked | uncovered
    text: str
    title: str
    check: str = ""  # the check function whose code the badge links to
    kind: str = ""  # evaluated | bound: how a check verifies the equation (see KINDS)
    not_evaluated: str = ""  # for a bound equation, the note's reason why its check cannot evaluate it


@dataclass(frozen=True)
class Verification:
    specs: tuple[CheckSpec, ...]
    results: dict[str, CheckResult]  # by check id, only results of the current snippets
    coverage: Coverage
    # indexes built once from ``specs`` (a badge or a note's checks is a lookup, not a scan of every check)
    _by_id: dict[str, CheckSpec] = field(init=False, repr=False, compare=False)
    _by_note: dict[str, tuple[CheckSpec, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_note: dict[str, list[CheckSpec]] = defaultdict(list)
        for spec in self.specs:
            by_note[spec.key].append(spec)
        object.__setattr__(self, "_by_id", {s.id: s for s in self.specs})
        object.__setattr__(self, "_by_note", {k: tuple(v) for k, v in by_note.items()})

    def figure(self, note_key: str, label: str) -> dict | None:
        """The plotly figure ``label`` published by a passing check of the note, if any."""
        for spec in self.checks_of(note_key):
            result = self.results.get(spec.id)
            if result and label in result.figures:
                return result.figures[label]
        return None

    def checks_of(self, note_key: str) -> tuple[CheckSpec, ...]:
        return self._by_note.get(note_key, ())

    def result(self, spec: CheckSpec) -> CheckResult | None:
        return self.results.get(spec.id)

    def inputs_of_note(self, note_key: str, equation_ids: tuple[str, ...]) -> str:
        """A digest of all that a note's page shows of the checks (``views.note_view``: the note's
        checks, the badges of its equations ``equation_ids``, its figures): the checks of the note
        and those that verify its equations, their current results, and what the coverage says of
        each equation. Cheaper than the views it stands for, which only a changed page needs."""
        ids = {spec.id for spec in self.checks_of(note_key)}
        for equation in equation_ids:
            ids.update(self.coverage.checked.get(equation, ()))
        parts = []
        for check in sorted(ids):
            spec, result = self._by_id.get(check), self.results.get(check)
            parts.append("-" if spec is None else spec.text)  # its repr, made once per check object
            parts.append(result.identity if result is not None else "-")
        parts += [repr((e, self.coverage.checked.get(e), e in self.coverage.evaluated, self.coverage.unchecked.get(e),
                        self.coverage.not_evaluated.get(e))) for e in equation_ids]
        return digest(*parts)

    def badge(self, equation_id: str) -> Badge:
        if equation_id in self.coverage.unchecked:
            return Badge("unchecked", "unchecked", self.coverage.unchecked[equation_id])
        check_ids = self.coverage.checked.get(equation_id)
        if not check_ids:
            return Badge("uncovered", "no check yet", "No check verifies this equation yet.")
        specs = [self._by_id[c] for c in dict.fromkeys(check_ids) if c in self._by_id]
        results = [self.results.get(s.id) for s in specs]
        worst = _worst([r.status if r else "not-run" for r in results])
        state, template = BADGES[worst]
        shown = next((r for r in results if r and r.status == worst), None)
        kind = "evaluated" if equation_id in self.coverage.evaluated else "bound"
        passed_text, how = KINDS[kind]
        why_not = self.coverage.not_evaluated.get(equation_id, "") if kind == "bound" else ""
        title = f"{specs[0].function}: {how}" + (f": {shown.message}" if shown and shown.message else "")
        text = passed_text if worst == "passed" else template
        return Badge(state, text.format(device=shown.device if shown else ""), title, specs[0].function, kind, why_not)


def _worst(statuses: list[str]) -> str:
    for status in ("failed", "error", "timeout", "not-run", "skipped"):
        if status in statuses:
            return status
    return "passed"


def verification(project: Project, kb: KnowledgeBase, specs: list[CheckSpec], memo: ParseMemo | None = None,
                 files: FileDigests | None = None) -> Verification:
    """Recorded results that still belong to the current snippet and equations; the rest count as not run.
    ``memo``: where the snippets' imports, which the results' keys follow, were parsed before, and
    their digests computed; ``files``: the files' digests a long-lived caller keeps."""
    note_tex = {f"{n.key}/{f.label}": f.tex for n in kb.notes.values() for f in n.formulas if f.label}
    recorded = load_results(project.check_results, memo, files)
    sources = SnippetSources(project.root, memo=memo, files=files)
    python = platform.python_version()

    def current_checks(_=None) -> tuple[str, ...]:
        current = []
        for spec in specs:
            result = recorded.get(spec.id)
            if result is not None and cache_key(project.root, spec, Environment(result.device, python, result.torch),
                                                note_tex, sources) == result.snippet_hash:
                current.append(spec.id)
        return tuple(current)

    if memo is None:
        current = current_checks()
    else:
        # Which results still belong to their checks, found at once by all that their keys are made
        # of (``cache_key``: the snippet with its helpers and the evaluator, the function, the bound
        # equations' LaTeX, the environment): a prose edit changes none of it, and computing 12,120
        # keys was a fifth of an edit's build at 3,000 notes
        made_of = digest(python, *(f"{check}={result.identity}" for check, result in recorded.items()), "specs",
                         *(f"{s.id}|{s.file}|{sources.digest(s.file)}|{s.function}|" + "|".join(f"{e}={note_tex.get(e, '')}" for e in s.equations)
                           for s in specs if s.id in recorded))
        current = memo.values("current checks", {"all": made_of}, current_checks)["all"]
    current_results = {check: recorded[check] for check in current}
    return Verification(tuple(specs), current_results, coverage(kb, specs, current_results))
