"""Whether an equation counts as evaluated is decided by what its check's run did, not by a flag."""
from test_checks import checks_project, run

SNIPPET = '''
import torch

from harness import check, close, differs, evaluate

@check("beta2021second/relu", tex=r"y = \\max(0, x)", evaluates=True)
def check_claims_but_never_evaluates():
    x = torch.linspace(-3, 3, 61, dtype=torch.float64)
    close(x.clamp(min=0), torch.relu(x), "y")


@check("beta2021second/relu", tex=r"y = \\max(0, x)", evaluates=True)
def check_evaluates_but_never_compares_the_result():
    x = torch.linspace(-3, 3, 61, dtype=torch.float64)
    evaluate("beta2021second/relu", x=x)
    close(x.clamp(min=0), torch.relu(x), "y")


@check("beta2021second/relu", tex=r"y = \\max(0, x)", evaluates=True)
def check_compares_only_with_differs():
    x = torch.linspace(-3, 3, 61, dtype=torch.float64)
    differs(evaluate("beta2021second/relu", x=x), x, "ReLU is not the identity")


@check("beta2021second/relu", tex=r"y = \\max(0, x)")
def check_evaluates_and_compares_without_declaring():
    x = torch.linspace(-3, 3, 61, dtype=torch.float64)
    close(evaluate("beta2021second/relu", x=x) * 2, 2 * torch.relu(x), "2y")
'''


def test_claims_are_verified_by_the_run(tmp_path):
    project = checks_project(tmp_path)
    (project.root / "runnable_snippets" / "beta2021second.py").write_text(SNIPPET, encoding="utf-8")
    results = {r.check.split("::")[1]: r for r in run(project, "beta2021second").results}
    never = results["check_claims_but_never_evaluates"]
    assert never.status == "failed" and never.evaluated == ()
    assert "beta2021second/relu" in never.message and "never evaluated its LaTeX" in never.message
    uncompared = results["check_evaluates_but_never_compares_the_result"]
    assert uncompared.status == "failed" and "never compared the result" in uncompared.message
    only_differs = results["check_compares_only_with_differs"]
    assert only_differs.status == "failed" and "never compared the result" in only_differs.message
    # evidence flows through torch ops (here a product) into close(), and counts without a declaration
    honest = results["check_evaluates_and_compares_without_declaring"]
    assert (honest.status, honest.evaluated) == ("passed", ("beta2021second/relu",))
