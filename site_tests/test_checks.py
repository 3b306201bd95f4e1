"""The check runner: every way a check can end, the cache, equation binding and coverage."""
import shutil
import subprocess
import sys

import pytest
from conftest import FIXTURES, REPO, edit, make_project

from generator.checks.coverage import coverage, equations, unknown_equations
from generator.checks.discover import discover
from generator.checks.runner import Environment, Limits, SnippetSources, cache_key, evaluator_files
from generator.checks.suite import Options, run_suite, select
from generator.formulas import Katex
from generator.load import load

# generous: a loaded machine can take seconds just to import torch; the hang test waits this long
LIMITS = Limits(timeout=20, memory_mb=1024, output_bytes=256 * 1024)


def checks_project(tmp_path):
    project = make_project(tmp_path)
    snippets = project.root / "runnable_snippets"
    shutil.copytree(FIXTURES / "snippets_runner", snippets)
    for helper in ("harness.py",):
        shutil.copy2(REPO / "runnable_snippets" / helper, snippets / helper)
    return project


def run(project, *selection, refresh=False):
    kb = load(project, Katex()).kb
    return run_suite(project, kb, Options(selection=selection, device="cpu", jobs=2, refresh=refresh, limits=LIMITS))


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    project = checks_project(tmp_path_factory.mktemp("checks"))
    return project, {r.check.split("::")[1]: r for r in run(project).results}


def test_a_passing_check_records_its_error_and_tolerance(first_run):
    _, results = first_run
    result = results["check_passes"]
    assert (result.status, result.device, result.cached) == ("passed", "cpu", False)
    assert result.max_error == pytest.approx(0.0, abs=1e-6) and result.tolerance == 1e-5
    assert result.torch.startswith("2.")


def test_a_failing_check_reports_expected_got_error_tolerance_and_line(first_run):
    _, results = first_run
    result = results["check_fails"]
    assert result.status == "failed"
    assert result.message == ("θ_{t+1}: expected tensor[(2,)](1, 2.5), got tensor[(2,)](1, 2); "
                              "max abs error 0.5 > tolerance atol=1e-05, rtol=1.3e-06")
    assert (result.file, result.line) == ("runnable_snippets/alpha2020first.py", 18)
    assert result.max_error == 0.5


def test_a_check_that_raises_is_an_error_at_its_line(first_run):
    _, results = first_run
    result = results["check_raises"]
    assert (result.status, result.line) == ("error", 23)
    assert result.message == "ValueError: shapes (2,) and (3,) do not match"


def test_a_check_that_hangs_times_out(first_run):
    _, results = first_run
    assert (results["check_hangs"].status, results["check_hangs"].message) == ("timeout", "did not finish within 20 s (killed)")


def test_a_check_that_exhausts_memory_is_stopped_by_the_cap(first_run):
    _, results = first_run
    result = results["check_exhausts_memory"]
    assert result.status == "error"
    assert result.message.startswith("ran out of memory (cap 1024 MB)")


def test_a_check_that_prints_megabytes_is_killed(first_run):
    _, results = first_run
    result = results["check_floods_output"]
    assert (result.status, result.message) == ("error", "printed more than 256 KB of output (killed); print less")


def test_a_missing_import_is_an_error(first_run):
    _, results = first_run
    result = results["check_imports_something_missing"]
    assert result.status == "error"
    assert result.message == "ModuleNotFoundError: No module named 'no_such_package'"


def test_a_cuda_check_is_skipped_with_its_reason_on_cpu(first_run):
    _, results = first_run
    result = results["check_needs_cuda"]
    assert (result.status, result.message) == ("skipped", "needs CUDA: fp16 kernels")


def test_a_check_can_evaluate_the_notes_own_latex(first_run):
    _, results = first_run
    assert results["check_relu_from_the_note"].status == "passed"
    assert results["check_relu_from_the_note"].evaluated == ("beta2021second/relu",)


def test_unchanged_checks_come_from_the_cache_and_edits_invalidate(tmp_path):
    project = checks_project(tmp_path)
    first = run(project, "beta2021second")
    assert [r.cached for r in first.results] == [False]
    assert [r.cached for r in run(project, "beta2021second").results] == [True]
    edit(project.notes / "beta2021second.md", "卷积网络逐层提取特征", "卷积网络一层一层地提取特征")  # prose only
    assert [r.cached for r in run(project, "beta2021second").results] == [True]
    edit(project.root / "runnable_snippets/beta2021second.py", "linspace(-3, 3, 61", "linspace(-3, 3, 62")
    assert [r.cached for r in run(project, "beta2021second").results] == [False]
    edit(project.root / "runnable_snippets/harness.py", '"""The small shared harness', '"""The shared harness')
    assert [r.cached for r in run(project, "beta2021second").results] == [False]
    assert [r.cached for r in run(project, "beta2021second", refresh=True).results] == [False]


def test_a_change_to_the_evaluator_invalidates_every_cached_check(tmp_path):
    """texeval is imported inside the harness's functions, not by the snippet: its source is part of the key."""
    project = checks_project(tmp_path)
    evaluator = tmp_path / "texeval"
    shutil.copytree(REPO / "texeval", evaluator, ignore=shutil.ignore_patterns("tests", "__pycache__"))
    specs, _ = discover(project.root, {"beta2021second"})
    spec = next(s for s in specs if s.file.endswith("beta2021second.py"))
    env = Environment("cpu", "3.11", "torch")

    def key():
        return cache_key(project.root, spec, env, {}, SnippetSources(project.root, sorted(evaluator.glob("*.py"))))

    before = key()
    assert key() == before
    edit(evaluator / "evaluate.py", "class Evaluator", "class  Evaluator")
    assert key() != before
    assert evaluator_files() == sorted((REPO / "texeval").glob("*.py"))


def test_a_changed_equation_fails_its_check_until_rebound(tmp_path):
    project = checks_project(tmp_path)
    edit(project.notes / "beta2021second.md", r"y = \max(0, x)", r"y = \max(0, -x)")
    (result,) = run(project, "beta2021second").results
    assert result.status == "failed"
    assert result.message == ("notes/beta2021second.md:11: equation `beta2021second/relu` changed since its check was written; "
                              "review the check, then set its tex= to the note's new LaTeX: y = \\max(0, -x)")
    # re-binding without fixing the maths still fails, because the check evaluates the note's LaTeX
    edit(project.root / "runnable_snippets/beta2021second.py", r'tex=r"y = \max(0, x)"', r'tex=r"y = \max(0, -x)"')
    (result,) = run(project, "beta2021second").results
    assert result.status == "failed" and result.message.startswith("y: expected")


def test_whitespace_changes_do_not_unbind(tmp_path):
    project = checks_project(tmp_path)
    edit(project.notes / "beta2021second.md", r"y = \max(0, x)", r"y=\max( 0,x )")
    assert [r.status for r in run(project, "beta2021second").results] == ["passed"]


def test_a_check_naming_an_unknown_equation_is_an_error(tmp_path):
    project = checks_project(tmp_path)
    edit(project.root / "runnable_snippets/beta2021second.py", '@check("beta2021second/relu"', '@check("beta2021second/rel"')
    report = run(project)
    assert [str(p) for p in report.problems] == [
        "runnable_snippets/beta2021second.py:7: check_relu_from_the_note names unknown equation `beta2021second/rel` "
        "(did you mean 'beta2021second/relu'?); equation ids are note-key/label, the label written as {#eq:label} after the formula"]


def test_coverage_lists_equations_without_checks(tmp_path):
    project = checks_project(tmp_path)
    kb = load(project, Katex()).kb
    specs, problems = discover(project.root, set(kb.notes))
    assert problems == [] and unknown_equations(specs, {e.id for e in equations(kb)}) == []
    (project.root / "runnable_snippets/beta2021second.py").unlink()
    specs, _ = discover(project.root, set(kb.notes))
    cov = coverage(kb, specs)
    assert [e.id for e in cov.uncovered] == ["beta2021second/relu"]
    assert set(cov.checked) == {"alpha2020first/update"}


def test_shards_split_the_checks_without_overlap(tmp_path):
    project = checks_project(tmp_path)
    kb = load(project, Katex()).kb
    specs, _ = discover(project.root, set(kb.notes))
    shards = [select(specs, (), (k, 3)) for k in (1, 2, 3)]
    ids = [s.id for shard in shards for s in shard]
    assert sorted(ids) == sorted(s.id for s in specs) and len(ids) == len(set(ids))
    assert all(shards)


def test_a_check_figure_and_badges_reach_the_site(tmp_path):
    from generator.site_build import build

    project = checks_project(tmp_path)
    run(project, "beta2021second")
    assert build(project) == []
    html = (project.site / "notes/beta2021second/index.html").read_text(encoding="utf-8")
    assert 'data-pn-chart="relu"' in html
    assert '&quot;x&quot;:[-3.0,-2.9' in html  # the figure, in the chart's data-pn-figure attribute
    # the run recorded that the check evaluated the formula itself, so the badge says so
    assert 'class="pn-badge pn-badge--verified pn-badge--evaluated" href="#check-check_relu_from_the_note"' in html
    assert "✓ evaluated from this formula on cpu" in html
    import re
    assert 'id="check-check_relu_from_the_note"' in html
    assert "def check_relu_from_the_note():" in re.sub(r"<[^>]+>", "", html)  # the code, from the snippet file
    alpha = (project.site / "notes/alpha2020first/index.html").read_text(encoding="utf-8")
    assert '<span class="pn-badge pn-badge--not-run"' not in alpha and "not run" in alpha
    verification = (project.site / "verification/index.html").read_text(encoding="utf-8")
    assert "check_relu_from_the_note" in verification and "check_hangs" in verification


def test_a_warm_check_answers_from_the_cache_without_importing_torch_or_the_renderers(first_run):
    """The cached path: environment from package metadata, formulas from build/cache, no page rendered."""
    project, _ = first_run
    probe = ("import sys; from generator.cli import main; "
             f"code = main(['--root', {str(project.root)!r}, 'check', '--device', 'cpu', 'beta2021second']); "
             "print('imported', [m for m in ('torch', 'pykatex', 'jinja2', 'mkdocs', 'generator.render') if m in sys.modules])")
    command = [sys.executable, "-c", probe]
    subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True)  # keeps the formulas in build/cache
    warm = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True)
    assert "0 run, 1 from cache" in warm.stdout
    assert "imported []" in warm.stdout
