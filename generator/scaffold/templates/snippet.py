"""Checks for notes/{key}.md: each equation against an independent reference.

Run: python runnable_snippets/{key}.py   (or: papernotes check {key})
"""
import torch

from harness import check, close, device, run_checks, seed


@check("{key}/main", tex=r"y = f(x)")
def check_main():
    """TODO: compute the equation as the note states it, compute the same quantity an independent
    way (a PyTorch implementation, an identity, brute force), and compare with close()."""
    x = torch.randn(8, generator=seed(0), dtype=torch.float64).to(device())
    y = x  # replace: the note's equation
    reference = None  # replace: an independent computation of the same quantity
    if reference is None:
        raise NotImplementedError("this check is a skeleton: write the equation and its reference, then compare with close()")
    close(y, reference, "y = f(x)")


if __name__ == "__main__":
    run_checks(__name__)
