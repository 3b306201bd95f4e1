"""Lets pytest collect the snippets too: ``pytest runnable_snippets`` runs every ``check_*`` in-process,
through the same harness (equation binding, recorded comparisons) as ``papernotes check``."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import harness  # noqa: E402

HELPERS = {"conftest", "harness"}


def pytest_collect_file(file_path, parent):
    if file_path.suffix == ".py" and file_path.stem not in HELPERS:
        return pytest.Module.from_parent(parent, path=file_path)
    return None


def pytest_pycollect_makeitem(collector, name, obj):
    if name.startswith("check_") and callable(obj):
        return pytest.Function.from_parent(collector, name=name)
    return None


def pytest_pyfunc_call(pyfuncitem):
    outcome = harness.run_check(pyfuncitem.obj)
    if outcome.status == "skipped":
        pytest.skip(outcome.message)
    if outcome.status != "passed":
        pytest.fail(f"{outcome.status}: {outcome.message}", pytrace=False)
    return True
