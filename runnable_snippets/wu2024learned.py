"""Checks for notes/wu2024learned.md (Learned Ranking Function): the expected reward of a slate in the
cascade model with clicks and abandonment, and two consequences the note states in prose.

References: a backward recursion over positions (value of the rest of the slate), a Monte Carlo
simulation of users scanning the slate, and an exhaustive search over all 720 orderings of 6 items.
"""
import itertools

import torch

from harness import check, close, device, differs, evaluate, figure, run_checks, seed



def cascade_value(p_c, p_a, r):
    """p_c, p_a, r: (..., n) in slate order -> (...,) expected reward Σ_k Π_{j<k}(1 − p^c_j − p^a_j) p^c_k r_k."""
    q = 1 - p_c - p_a
    reach = torch.cumprod(torch.cat([torch.ones_like(q[..., :1]), q[..., :-1]], -1), -1)   # Π_{j<k} q_j
    # R(σ) = Σ_k (Π_{j<k} (1 − p^c_{σ_j} − p^a_{σ_j})) p^c_{σ_k} r_{σ_k}
    return (reach * p_c * r).sum(-1)


def backward_value(p_c, p_a, r, v_abandon=0.0, v_end=0.0):
    """Value of the slate from position k on: V_k = p^c_k r_k + p^a_k v + (1 − p^c_k − p^a_k) V_{k+1}."""
    V = torch.tensor(v_end, dtype=torch.float64, device=p_c.device)
    for k in reversed(range(p_c.shape[-1])):
        V = p_c[k] * r[k] + p_a[k] * v_abandon + (1 - p_c[k] - p_a[k]) * V
    return V


def random_slate(g, n):
    p_c = 0.05 + 0.4 * torch.rand(n, generator=g, dtype=torch.float64)
    p_a = 0.5 * torch.rand(n, generator=g, dtype=torch.float64)
    r = 0.2 + torch.rand(n, generator=g, dtype=torch.float64) * 2
    return p_c.to(device()), p_a.to(device()), r.to(device())


@check("wu2024learned/cascade-value",
       tex=r"R(\sigma) = \sum_{k=1}^{n} \left( \prod_{j=1}^{k-1} \left(1 - p^{c}_{\sigma_j} - p^{a}_{\sigma_j}\right) \right) p^{c}_{\sigma_k}\, r_{\sigma_k}",
       evaluates=True)
def check_cascade_value_by_recursion_and_simulation():
    """R(σ) against the backward recursion for 8 random slates, and against the mean reward of 200 000
    simulated users (uniform draw per position: click, abandon or move on), within 5 standard errors."""
    g = seed(0)
    for _ in range(8):
        p_c, p_a, r = random_slate(g, 7)
        close(cascade_value(p_c, p_a, r), backward_value(p_c, p_a, r), "R(σ) against the backward recursion")
        # R(σ) = Σ_k (Π_{j<k} (1 − p^c_{σ_j} − p^a_{σ_j})) p^c_{σ_k} r_{σ_k}, from the note's LaTeX for a random order σ
        order = torch.randperm(7, generator=g).to(device())
        R = evaluate("wu2024learned/cascade-value", sigma=order + 1, r=r, n=7, **{"p^c": p_c, "p^a": p_a})
        close(R, backward_value(p_c[order], p_a[order], r[order]), "R(σ) from the note's LaTeX against the backward recursion")
    p_c, p_a, r = random_slate(g, 7)
    users = 200_000
    u = torch.rand(users, 7, generator=g, dtype=torch.float64).to(device())
    click, leave = u < p_c, (u >= p_c) & (u < p_c + p_a)
    stop = click | leave
    first_stop = stop.double().argmax(1)                                  # first position that ends the scan
    clicked = stop.any(1) & click.gather(1, first_stop[:, None])[:, 0]    # …and it ended with a click
    reward = torch.where(clicked, r[first_stop], torch.zeros(users, dtype=torch.float64, device=device()))
    standard_error = reward.std() / users ** 0.5
    close(reward.mean(), cascade_value(p_c, p_a, r), "R(σ) against 200k simulated users", atol=float(5 * standard_error), rtol=0)


@check("wu2024learned/cascade-value",
       tex=r"R(\sigma) = \sum_{k=1}^{n} \left( \prod_{j=1}^{k-1} \left(1 - p^{c}_{\sigma_j} - p^{a}_{\sigma_j}\right) \right) p^{c}_{\sigma_k}\, r_{\sigma_k}")
def check_constant_abandonment_value_factors_out():
    """If abandoning (or scanning past the last item) is worth v, the full value equals v + R(σ) computed
    with lifts r_i − v: the constant factors out."""
    g = seed(1)
    for v in (0.3, 1.1):
        p_c, p_a, r = random_slate(g, 6)
        full = backward_value(p_c, p_a, r, v_abandon=v, v_end=v)
        close(full, v + cascade_value(p_c, p_a, r - v), f"value with abandonment worth {v} = v + R(lift)")
        differs(full, cascade_value(p_c, p_a, r), "ignoring the abandonment value changes the total")


@check("wu2024learned/cascade-value",
       tex=r"R(\sigma) = \sum_{k=1}^{n} \left( \prod_{j=1}^{k-1} \left(1 - p^{c}_{\sigma_j} - p^{a}_{\sigma_j}\right) \right) p^{c}_{\sigma_k}\, r_{\sigma_k}")
def check_best_order_sorts_by_click_value_over_stop_probability():
    """Over all 720 orderings of 6 items, the best R(σ) is reached by sorting by p^c r / (p^c + p^a)
    (10 random item sets); for a set where a valuable item often causes abandonment, sorting by p^c r is worse."""
    g = seed(2)
    n = 6
    orders = torch.tensor(list(itertools.permutations(range(n))), device=device())          # (720, 6)
    for _ in range(10):
        p_c, p_a, r = random_slate(g, n)
        values = cascade_value(p_c[orders], p_a[orders], r[orders])
        ratio_order = torch.argsort(p_c * r / (p_c + p_a), descending=True)
        close(cascade_value(p_c[ratio_order], p_a[ratio_order], r[ratio_order]), values.max(),
              "ratio sort reaches the exhaustive optimum")
    p_c = torch.tensor([0.30, 0.20, 0.15, 0.25, 0.10, 0.12], dtype=torch.float64, device=device())
    p_a = torch.tensor([0.60, 0.05, 0.05, 0.10, 0.02, 0.30], dtype=torch.float64, device=device())
    r = torch.tensor([2.0, 1.5, 1.2, 1.0, 1.4, 0.8], dtype=torch.float64, device=device())
    values = cascade_value(p_c[orders], p_a[orders], r[orders])
    ratio_order = torch.argsort(p_c * r / (p_c + p_a), descending=True)
    naive_order = torch.argsort(p_c * r, descending=True)
    best, naive = cascade_value(p_c[ratio_order], p_a[ratio_order], r[ratio_order]), cascade_value(p_c[naive_order], p_a[naive_order], r[naive_order])
    close(best, values.max(), "ratio sort is optimal on the hand-made set")
    differs(naive, best, "sorting by p^c·r alone loses reward", at_least=0.01)
    ranked = torch.sort(values).values
    figure("cascade-order", [
        {"type": "scatter", "mode": "lines", "name": "все 720 порядков (по возрастанию R)", "x": list(range(len(ranked))), "y": ranked},
        {"type": "scatter", "mode": "markers", "name": "сортировка по p^c·r/(p^c + p^a)", "x": [int((ranked < best - 1e-12).sum())], "y": [float(best)]},
        {"type": "scatter", "mode": "markers", "name": "сортировка по p^c·r", "x": [int((ranked < naive - 1e-12).sum())], "y": [float(naive)]},
    ], {"xaxis": {"title": {"text": "номер порядка после сортировки по R"}},
        "yaxis": {"title": {"text": "ожидаемая награда слейта R(σ)"}},
        "height": 320, "margin": {"l": 60, "r": 10, "t": 10, "b": 50}})


if __name__ == "__main__":
    run_checks(__name__)
