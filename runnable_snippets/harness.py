"""The small shared harness every snippet imports: device, seeding, comparison, and the check registry.

A snippet is ``runnable_snippets/<note-key>.py``: plain PyTorch functions named ``check_*``, each
decorated with ``@check(equation_id, tex=...)`` for every equation of the note it verifies. ``tex``
is the equation's LaTeX as the check's author read it in the note: if the note's equation changes,
the check fails until someone reviews it and updates ``tex`` (see ``papernotes check``).

    python runnable_snippets/kingma2014adam.py            # run one note's checks, print each result
    PAPERNOTES_DEVICE=cuda python runnable_snippets/...   # force a device (default: CUDA when present)
"""
from __future__ import annotations

import contextvars
import dataclasses
import os
import random
import re
import sys
import time
import traceback
from pathlib import Path
from typing import Callable

import torch

NOTES = Path(__file__).resolve().parents[1] / "notes"


# --- device and seeding -----------------------------------------------------------------------

def device() -> torch.device:
    """CUDA when available, else CPU; ``PAPERNOTES_DEVICE`` (cpu, cuda, cuda:1) overrides."""
    wanted = os.environ.get("PAPERNOTES_DEVICE", "auto")
    if wanted == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(wanted)


def seed(value: int = 0) -> torch.Generator:
    """Seed Python and torch (CPU and CUDA) and return a generator for explicit use."""
    random.seed(value)
    torch.manual_seed(value)
    return torch.Generator(device="cpu").manual_seed(value)


# --- comparison -------------------------------------------------------------------------------

@dataclasses.dataclass
class Comparison:
    what: str
    max_abs_error: float
    atol: float
    rtol: float
    passed: bool


_comparisons: contextvars.ContextVar[list] = contextvars.ContextVar("comparisons")
_figures: contextvars.ContextVar[dict] = contextvars.ContextVar("figures")

# tolerances by dtype, as torch.testing.assert_close uses them
TOLERANCES = {torch.float64: (1e-7, 1e-7), torch.float32: (1.3e-6, 1e-5), torch.float16: (1e-3, 1e-5),
              torch.bfloat16: (1.6e-2, 1e-5)}


def close(actual, expected, what: str = "value", rtol: float | None = None, atol: float | None = None) -> Comparison:
    """``torch.testing.assert_close`` that also records the max error and tolerance for the report.

    Tensors are compared on the device and dtype they came in; scalars become float64 tensors. When it
    passes, the equations whose evaluated LaTeX ``actual`` or ``expected`` came from count as evaluated.
    """
    evaluated = _equations_in([actual, expected])
    actual = actual.as_subclass(torch.Tensor) if isinstance(actual, Evaluated) else actual
    expected = expected.as_subclass(torch.Tensor) if isinstance(expected, Evaluated) else expected
    actual_t = torch.as_tensor(actual, dtype=torch.float64) if not torch.is_tensor(actual) else actual.detach()
    expected_t = torch.as_tensor(expected, dtype=actual_t.dtype, device=actual_t.device) if not torch.is_tensor(expected) else expected.detach()
    default_rtol, default_atol = TOLERANCES.get(actual_t.dtype, (1.3e-6, 1e-5))
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    diff = (actual_t.double() - expected_t.to(actual_t.device).double()).abs()
    max_error = float(diff.max()) if diff.numel() else 0.0
    try:
        torch.testing.assert_close(actual_t, expected_t.to(actual_t.device, actual_t.dtype), rtol=rtol, atol=atol)
        passed = True
    except AssertionError:
        passed = False
    comparison = Comparison(what, max_error, atol, rtol, passed)
    _record(comparison)
    if passed:
        for equation_id in evaluated:
            _note(_evidence, equation_id)
    if not passed:
        raise AssertionError(f"{what}: expected {_show(expected_t)}, got {_show(actual_t)}; "
                             f"max abs error {max_error:.3g} > tolerance atol={atol:g}, rtol={rtol:g}")
    return comparison


def differs(wrong, right, what: str = "misstatement", at_least: float = 1e-3) -> Comparison:
    """Assert that a commonly misstated form gives a different result from the paper's form."""
    wrong = wrong.as_subclass(torch.Tensor) if isinstance(wrong, Evaluated) else wrong
    right = right.as_subclass(torch.Tensor) if isinstance(right, Evaluated) else right
    wrong_t = wrong.detach() if torch.is_tensor(wrong) else torch.as_tensor(wrong, dtype=torch.float64)
    right_t = right.detach() if torch.is_tensor(right) else torch.as_tensor(right, dtype=torch.float64)
    gap = float((wrong_t.double().cpu() - right_t.double().cpu()).abs().max())
    comparison = Comparison(what, gap, at_least, 0.0, gap >= at_least)
    _record(comparison)
    if gap < at_least:
        raise AssertionError(f"{what}: the misstated form should differ from the paper's by at least {at_least:g}, but differs by {gap:.3g}")
    return comparison


def _record(comparison: Comparison) -> None:
    try:
        _comparisons.get().append(comparison)
    except LookupError:
        pass  # called outside a check run: nothing to record


def _show(t: torch.Tensor) -> str:
    flat = t.detach().flatten().double().cpu()
    if flat.numel() == 1:
        return f"{float(flat[0]):.6g}"
    head = ", ".join(f"{float(x):.4g}" for x in flat[:4])
    return f"tensor[{tuple(t.shape)}]({head}{', ...' if flat.numel() > 4 else ''})"


def figure(name: str, traces: list[dict], layout: dict | None = None) -> None:
    """Publish a plotly figure computed by this check; the note embeds it with a ``{#fig:name}`` line,
    so the chart a reader sees is drawn from the numbers the check verified."""
    data = [{k: (v.detach().cpu().tolist() if torch.is_tensor(v) else v) for k, v in trace.items()} for trace in traces]
    try:
        _figures.get()[name] = {"data": data, "layout": layout or {}}
    except LookupError:
        pass  # called outside a check run


# --- the note's own LaTeX ---------------------------------------------------------------------

def note_equation(equation_id: str) -> tuple[str, int]:
    """The LaTeX of ``key/label`` as the note states it now, and its line: found by the same scanner
    the site builder uses, so the check reads exactly the equation the page shows."""
    from generator.markdown_scan import scan
    from generator.readers.frontmatter import split

    key, label = equation_id.split("/", 1)
    front = split((NOTES / f"{key}.md").read_text(encoding="utf-8"))
    for formula in scan(front.body, first_line=front.body_line).formulas:
        if formula.label == label:
            return formula.tex, formula.line
    raise LookupError(f"notes/{key}.md has no equation {{#eq:{label}}}")


def note_tex(equation_id: str) -> str:
    return note_equation(equation_id)[0]


def same_tex(a: str, b: str) -> bool:
    """Equal up to whitespace (a space after a control word still separates it from a letter)."""
    return canonical_tex(a) == canonical_tex(b)


def canonical_tex(tex: str) -> str:
    return " ".join(re.findall(r"\\[A-Za-z]+|\\.|\S", tex))


class EquationChanged(AssertionError):
    pass


def check_bindings(function: Callable) -> None:
    """Fail when an equation's LaTeX in its note no longer matches what the check was written against."""
    for binding in getattr(function, "__papernotes_checks__", ()):
        tex, line = note_equation(binding.equation)
        if not same_tex(tex, binding.tex):
            key = binding.equation.split("/")[0]
            raise EquationChanged(
                f"notes/{key}.md:{line}: equation `{binding.equation}` changed since its check was written; "
                f"review the check, then set its tex= to the note's new LaTeX: {tex}")


class Evaluated(torch.Tensor):
    """A tensor derived from evaluating a note's LaTeX: it carries the equation ids through torch ops
    (arithmetic, ``.to``, indexing, reductions), so ``close()`` can tell which equations reached a comparison.
    A value taken out of torch (``float(t)``, ``t.item()``) loses the ids."""

    equations: frozenset = frozenset()

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        ids = _equations_in((args, kwargs or {}))
        result = super().__torch_function__(func, types, args, kwargs or {})
        return _tag(result, ids)


def _equations_in(value) -> frozenset:
    if isinstance(value, Evaluated):
        return value.equations
    if isinstance(value, (list, tuple)):
        return frozenset().union(*map(_equations_in, value)) if value else frozenset()
    if isinstance(value, dict):
        return _equations_in(list(value.values()))
    return frozenset()


def _tag(value, ids: frozenset):
    if isinstance(value, Evaluated):
        value.equations = value.equations | ids
    elif isinstance(value, (list, tuple)):
        for item in value:
            _tag(item, ids)
    return value


_evaluations: contextvars.ContextVar[set] = contextvars.ContextVar("evaluations")
_evidence: contextvars.ContextVar[set] = contextvars.ContextVar("evidence")


def evaluate(equation_id: str, **values) -> torch.Tensor:
    """The value of the note's own equation (its rightmost side) for the given symbols, with texeval.

    Names follow texeval's naming rule: ``\\beta_1`` is ``beta_1``, ``\\hat{m}_t`` is ``mhat_t``,
    ``\\mathrm{lr}`` is ``lr``, ``\\theta_{t-1}`` is ``theta_t-1``; pass them as ``**{"theta_t-1": ...}``.
    For options (``elementwise``, ``index_base``, ``indices``, ``clause``, ``dtype``) use :func:`evaluate_with`.
    """
    return evaluate_with(equation_id, values)


def evaluate_with(equation_id: str, values: dict, **options) -> torch.Tensor:
    """:func:`evaluate` with texeval's options (see ``texeval.Options``; ``clause=`` picks a clause of
    ``A = a, \\qquad B = b``). The result carries the equation id until a ``close()`` compares it."""
    import texeval

    result = texeval.evaluate(note_tex(equation_id), values, equation=equation_id, **options)
    _note(_evaluations, equation_id)
    ids = _equations_in(list(values.values())) | {equation_id}
    if isinstance(result, tuple):  # a callable's several outputs (U, V, Q, K = Split(...)), each tagged
        return tuple(_tag(r.as_subclass(Evaluated), ids) for r in result)
    tagged = result.as_subclass(Evaluated)
    tagged.equations = ids
    return tagged


def holds(equation_id: str, rtol: float | None = None, atol: float | None = None, **values) -> list:
    """Evaluate every side of the note's equation and assert each relation between neighbours:
    ``=`` (and definitions) and ``\\approx`` with ``close()`` (``\\approx`` needs a stated tolerance),
    ``\\le \\ge < >`` elementwise, ``\\propto`` as equal up to one constant factor. Records the comparisons."""
    return holds_with(equation_id, values, rtol=rtol, atol=atol)


def holds_with(equation_id: str, values: dict, *, rtol: float | None = None, atol: float | None = None,
               sides: tuple[int, ...] | None = None, **options) -> list:
    """:func:`holds` with texeval's options; ``sides=(1, 2)`` compares only those sides (0-based), e.g. to
    leave out a left side that is a name with no value, like ``\\hat P[...]``."""
    import texeval

    tex = note_tex(equation_id)
    every = texeval.sides(tex, values, equation=equation_id, **options)
    _note(_evaluations, equation_id)
    chosen = sorted(range(len(every.values))) if sides is None else list(sides)
    if len(chosen) < 2:
        raise ValueError(f"{equation_id}: holds() needs two sides to compare, the formula has {len(every.values)}")
    comparisons = []
    for a, b in zip(chosen, chosen[1:]):
        relation = "=" if b != a + 1 else every.relations[a]
        left, right = every.values[a], every.values[b]
        what = f"{equation_id}: {every.texts[a]} {relation} {every.texts[b]}"
        comparisons.append(_relation_holds(relation, left, right, what, rtol, atol))
    _note(_evidence, equation_id)
    return comparisons


def _relation_holds(relation: str, left, right, what: str, rtol, atol) -> Comparison:
    if relation == "=":
        return close(left, right, what, rtol=rtol, atol=atol)
    if relation == "approx":
        if rtol is None and atol is None:
            raise ValueError(f"{what}: \\approx needs the tolerance the note states: holds(..., rtol=..., atol=...)")
        return close(left, right, what, rtol=rtol or 0.0, atol=atol or 0.0)
    if relation == "propto":
        right_d = right.double().flatten()
        factor = (left.double().flatten() @ right_d) / (right_d @ right_d)
        return close(left, factor * right, what + " (up to a constant)", rtol=rtol, atol=atol)
    if relation in ("<", ">", "<=", ">="):
        slack = 0.0 if atol is None else atol
        test = {"<": lambda a, b: a < b + slack, ">": lambda a, b: a + slack > b,
                "<=": lambda a, b: a <= b + slack, ">=": lambda a, b: a + slack >= b}[relation]
        ok = bool(test(left.double(), right.double()).all())
        gap = float((left.double() - right.double()).abs().max())
        comparison = Comparison(what, gap, slack, 0.0, ok)
        _record(comparison)
        if not ok:
            raise AssertionError(f"{what}: does not hold: left {_show(left)}, right {_show(right)}")
        return comparison
    raise ValueError(f"{what}: holds() cannot check the relation {relation}")


def _note(var: contextvars.ContextVar, equation_id: str) -> None:
    try:
        var.get().add(equation_id)
    except LookupError:
        pass  # outside a check run


# --- the registry -----------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Binding:
    equation: str
    tex: str
    evaluates: bool = False


def check(equation: str, tex: str, evaluates: bool = False) -> Callable:
    """Declare that the decorated function verifies ``equation`` (``note-key/label``), as written in ``tex``.

    Stack several decorators for a function that verifies several equations. ``evaluates=True``
    claims the function evaluates the note's own LaTeX (``evaluate``/``holds``), so a wrong formula
    fails even after its ``tex`` was re-bound; the claim is verified by the run: the check fails
    unless the equation's LaTeX was evaluated and a value derived from it reached a passing
    ``close()`` or ``holds()`` (``differs()`` does not count).
    """
    def register(function: Callable) -> Callable:
        bindings = getattr(function, "__papernotes_checks__", ())
        function.__papernotes_checks__ = (Binding(equation, tex, evaluates),) + bindings
        function.__papernotes_evaluates__ = getattr(function, "__papernotes_evaluates__", False) or evaluates
        return function
    return register


def needs_cuda(reason: str = "needs a CUDA device") -> Callable:
    """Mark a check that only means something on a GPU: on CPU it is reported SKIPPED, never passed."""
    def mark(function: Callable) -> Callable:
        function.__papernotes_needs_cuda__ = reason
        return function
    return mark


class Skipped(Exception):
    pass


@dataclasses.dataclass
class Outcome:
    name: str
    status: str  # passed | failed | skipped | error
    seconds: float
    comparisons: list
    message: str = ""
    line: int = 0
    figures: dict = dataclasses.field(default_factory=dict)
    evaluated: list = dataclasses.field(default_factory=list)  # equation ids evaluated and compared in this run


def run_check(function: Callable) -> Outcome:
    """Run one check function and return its outcome; never raises."""
    recorded: list = []
    figures: dict = {}
    evaluations: set = set()
    evidence: set = set()
    token = _comparisons.set(recorded)
    figures_token = _figures.set(figures)
    tokens = (_evaluations.set(evaluations), _evidence.set(evidence))
    started = time.perf_counter()
    status, message, line = "passed", "", 0
    try:
        check_bindings(function)
        reason = getattr(function, "__papernotes_needs_cuda__", None)
        if reason and device().type != "cuda":
            raise Skipped(f"needs CUDA: {reason}")
        function()
        if not recorded:
            status, message = "failed", "the check compared nothing: call close() or differs()"
        else:
            message = _unproven_claims(function, evaluations, evidence)
            status = "failed" if message else status
    except Skipped as exc:
        status, message = "skipped", str(exc)
    except AssertionError as exc:
        status, message, line = "failed", str(exc) or "assertion failed", _failing_line(exc, function)
    except Exception as exc:  # a crash in the check is its outcome, not the runner's
        status, message, line = "error", f"{type(exc).__name__}: {exc}", _failing_line(exc, function)
    finally:
        _comparisons.reset(token)
        _figures.reset(figures_token)
        _evaluations.reset(tokens[0])
        _evidence.reset(tokens[1])
    return Outcome(function.__name__, status, time.perf_counter() - started, [dataclasses.asdict(c) for c in recorded],
                   message, line, figures if status == "passed" else {},
                   sorted(evidence) if status == "passed" else [])


def _unproven_claims(function: Callable, evaluations: set, evidence: set) -> str:
    """What the check claimed (``evaluates=True``) and the run did not do, or "" when every claim held."""
    problems = []
    for binding in getattr(function, "__papernotes_checks__", ()):
        if not binding.evaluates or binding.equation in evidence:
            continue
        if binding.equation in evaluations:
            problems.append(f"the check declares it evaluates {binding.equation} and evaluated it but never compared "
                            f"the result: pass a value derived from evaluate() to close(), or use holds()")
        else:
            problems.append(f"the check declares it evaluates {binding.equation} but never evaluated its LaTeX: call "
                            f"evaluate()/holds() on it, or drop evaluates=True")
    return "; ".join(problems)


def _failing_line(exc: BaseException, function: Callable) -> int:
    source = function.__code__.co_filename
    lines = [frame.lineno for frame in traceback.extract_tb(exc.__traceback__) if frame.filename == source]
    return lines[-1] if lines else function.__code__.co_firstlineno


def checks_in(module) -> list[Callable]:
    return [f for name, f in vars(module).items() if name.startswith("check_") and callable(f)]


def run_checks(module_name: str) -> None:
    """``if __name__ == "__main__": run_checks(__name__)``: run a snippet's checks and print each result."""
    module = sys.modules[module_name]
    print(f"device: {device()}, torch {torch.__version__}")
    failed = 0
    for function in checks_in(module):
        outcome = run_check(function)
        ids = ", ".join(b.equation for b in getattr(function, "__papernotes_checks__", ()))
        worst = max((c["max_abs_error"] for c in outcome.comparisons), default=0.0)
        print(f"{outcome.status.upper():8} {function.__name__} [{ids}] {outcome.seconds * 1000:.0f} ms, max error {worst:.2g}"
              + (f"\n         {outcome.message}" if outcome.message else ""))
        failed += outcome.status in ("failed", "error")
    sys.exit(1 if failed else 0)
