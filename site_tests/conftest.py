"""Shared fixtures: small knowledge bases copied into a temporary folder, one per test."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from generator.formulas import Katex
from generator.load import load
from generator.project import Project

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"


def make_project(tmp_path: Path, fixture: str = "kb_valid") -> Project:
    """A copy of ``fixtures/<fixture>`` with the repository's mkdocs.yml and KaTeX files."""
    root = tmp_path / fixture
    shutil.copytree(FIXTURES / fixture, root)
    shutil.copy2(REPO / "mkdocs.yml", root / "mkdocs.yml")
    return Project(root)


@pytest.fixture(scope="session")
def katex() -> Katex:
    return Katex()


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make_project(tmp_path)


def messages(project: Project, katex: Katex | None = None) -> list[str]:
    """Every problem ``papernotes validate`` reports, as ``path:line: message`` strings."""
    return [str(p) for p in load(project, katex or Katex()).problems]


def errors(project: Project, katex: Katex | None = None) -> list[str]:
    """``messages`` less the warnings: what fails ``papernotes validate`` without ``--strict``."""
    return [str(p) for p in load(project, katex or Katex()).problems if p.is_error]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text {old!r} not found in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
