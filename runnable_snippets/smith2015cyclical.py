"""Checks for notes/smith2015cyclical.md: the triangular, triangular2 and exp_range policies, evaluated from
the note's own LaTeX and compared with the rates torch.optim.lr_scheduler.CyclicLR sets; the blog's cosine
formula against CosineAnnealingLR, and proof that it is not the triangular policy.
"""
import warnings

import torch

from harness import check, close, differs, evaluate, figure, run_checks

base_lr, max_lr, stepsize, iterations = 0.001, 0.006, 200, 1200


def scheduler_rates(make_scheduler, steps, start_lr):
    """The learning rate a scheduler sets for iterations 0 .. steps−1 on a one-parameter SGD."""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=start_lr, momentum=0.9)
    scheduler = make_scheduler(optimizer)
    rates = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                       # "scheduler.step() before optimizer.step()"
        for _ in range(steps):
            rates.append(scheduler.get_last_lr()[0])
            optimizer.step()
            scheduler.step()
    return torch.tensor(rates, dtype=torch.float64)


def cyclic(mode, gamma=1.0):
    return lambda opt: torch.optim.lr_scheduler.CyclicLR(opt, base_lr=base_lr, max_lr=max_lr, step_size_up=stepsize,
                                                         mode=mode, gamma=gamma, cycle_momentum=False)


def cycle_and_position(it):
    """it: (T,) iterations -> (cycle, x), both from the note's LaTeX."""
    # cycle = ⌊1 + it / (2 stepsize)⌋
    cycle = evaluate("smith2015cyclical/cycle", it=it, stepsize=stepsize)
    # x = |it / stepsize − 2 cycle + 1|
    x = evaluate("smith2015cyclical/position", it=it, stepsize=stepsize, cycle=cycle)
    return cycle, x


@check("smith2015cyclical/cycle", tex=r"\mathrm{cycle} = \left\lfloor 1 + \frac{\mathrm{it}}{2\, \mathrm{stepsize}} \right\rfloor",
       evaluates=True)
@check("smith2015cyclical/position", tex=r"x = \left| \frac{\mathrm{it}}{\mathrm{stepsize}} - 2\, \mathrm{cycle} + 1 \right|",
       evaluates=True)
@check("smith2015cyclical/triangular",
       tex=r"\mathrm{lr} = \mathrm{base\_lr} + (\mathrm{max\_lr} - \mathrm{base\_lr}) \cdot \max(0, 1 - x)", evaluates=True)
def check_triangular_against_cyclic_lr():
    """1200 iterations, stepsize 200: the note's three formulas against CyclicLR(mode="triangular");
    the rate is base_lr at it = 0, 400, 800 and max_lr at it = 200, 600, 1000."""
    it = torch.arange(iterations, dtype=torch.float64)
    cycle, x = cycle_and_position(it)
    close(cycle[[0, 399, 400, 1199]], torch.tensor([1.0, 1.0, 2.0, 3.0], dtype=torch.float64), "cycle numbers")
    # lr = base_lr + (max_lr − base_lr) · max(0, 1 − x)
    lr = evaluate("smith2015cyclical/triangular", base_lr=base_lr, max_lr=max_lr, x=x)
    close(lr, scheduler_rates(cyclic("triangular"), iterations, base_lr), "triangular vs CyclicLR", rtol=1e-9, atol=1e-12)
    close(lr[[0, 200, 400, 600, 1000]], torch.tensor([base_lr, max_lr, base_lr, max_lr, max_lr], dtype=torch.float64),
          "base_lr at cycle ends, max_lr at mid-cycle")


@check("smith2015cyclical/triangular2",
       tex=r"\mathrm{lr} = \mathrm{base\_lr} + \frac{\mathrm{max\_lr} - \mathrm{base\_lr}}{2^{\mathrm{cycle} - 1}} \cdot \max(0, 1 - x)",
       evaluates=True)
@check("smith2015cyclical/exp-range",
       tex=r"\mathrm{lr} = \mathrm{base\_lr} + (\mathrm{max\_lr} - \mathrm{base\_lr}) \cdot \gamma^{\mathrm{it}} \cdot \max(0, 1 - x)",
       evaluates=True)
def check_variants_against_cyclic_lr():
    """triangular2 (peaks 0.006, 0.0035, 0.00225) and exp_range with γ = 0.998 against CyclicLR."""
    it = torch.arange(iterations, dtype=torch.float64)
    cycle, x = cycle_and_position(it)
    lr2 = evaluate("smith2015cyclical/triangular2", base_lr=base_lr, max_lr=max_lr, cycle=cycle, x=x)
    close(lr2, scheduler_rates(cyclic("triangular2"), iterations, base_lr), "triangular2 vs CyclicLR", rtol=1e-9, atol=1e-12)
    close(lr2[[200, 600, 1000]], torch.tensor([0.006, 0.0035, 0.00225], dtype=torch.float64), "triangular2 peaks")
    gamma = 0.998
    lr_exp = evaluate("smith2015cyclical/exp-range", base_lr=base_lr, max_lr=max_lr, gamma=gamma, it=it, x=x)
    close(lr_exp, scheduler_rates(cyclic("exp_range", gamma), iterations, base_lr), "exp_range vs CyclicLR",
          rtol=1e-9, atol=1e-12)


@check("smith2015cyclical/misstatement-cosine",
       tex=r"\mathrm{lr}(t) = \mathrm{lr}_{\min} + \frac{1}{2}\left(\mathrm{lr}_{\max} - \mathrm{lr}_{\min}\right)\left(1 + \cos\left(\frac{T_{cur}}{T}\pi\right)\right)",
       evaluates=True)
def check_blog_cosine_is_sgdr_not_clr():
    """The blog's formula, evaluated from the note's LaTeX, equals CosineAnnealingLR with
    T_max = 1200, eta_min = base_lr from max_lr; it only decreases, while the triangular policy rises and falls."""
    T_cur = torch.arange(iterations, dtype=torch.float64)
    T, lr_min, lr_max = iterations, base_lr, max_lr
    # lr(t) = lr_min + ½ (lr_max − lr_min) (1 + cos(π T_cur / T))
    cosine = evaluate("smith2015cyclical/misstatement-cosine", lr_min=lr_min, lr_max=lr_max, T_cur=T_cur, T=T)
    reference = scheduler_rates(lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=T, eta_min=lr_min),
                                iterations, lr_max)
    close(cosine, reference, "cosine formula vs CosineAnnealingLR", rtol=1e-9, atol=1e-12)
    close(cosine.diff().clamp(min=0), torch.zeros(iterations - 1, dtype=torch.float64), "cosine never increases")
    _, x = cycle_and_position(T_cur)
    triangular = evaluate("smith2015cyclical/triangular", base_lr=base_lr, max_lr=max_lr, x=x)
    differs(cosine, triangular, "cosine annealing vs the triangular CLR policy", at_least=1e-3)
    rates2 = scheduler_rates(cyclic("triangular2"), iterations, base_lr)
    every = slice(None, None, 4)
    figure("schedules", [
        {"type": "scatter", "name": "CLR triangular", "x": T_cur[every], "y": triangular[every]},
        {"type": "scatter", "name": "CLR triangular2", "x": T_cur[every], "y": rates2[every], "line": {"dash": "dot"}},
        {"type": "scatter", "name": "cosine annealing (CosineAnnealingLR)", "x": T_cur[every], "y": reference[every],
         "line": {"dash": "dash"}},
    ], {"xaxis": {"title": {"text": "iteration"}}, "yaxis": {"title": {"text": "learning rate"}},
        "height": 320, "margin": {"l": 70, "r": 10, "t": 10, "b": 50}})


if __name__ == "__main__":
    run_checks(__name__)
