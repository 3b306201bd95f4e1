"""Checks for notes/zhang2016understanding.md: the finite-sample expressivity construction (Theorem 1), built
as in the proof and fitted to random labels with a triangular solve, evaluated through an nn.Sequential of
Linear-ReLU-Linear; and the Rademacher complexity of that class on the sample (exactly 1, by construction),
against a norm-bounded linear class whose supremum has a closed form.
"""
import torch
from torch import nn

from harness import check, close, device, differs, evaluate, figure, run_checks, seed

f64 = torch.float64


def construct(x, y, g):
    """x: (n, d) sample, y: (n,) targets -> (a: (d,), b: (n,), w: (n,), order) as in the proof: z_i = ⟨a, x_i⟩
    sorted, biases interleaved b_1 < z_1 < b_2 < … < b_n < z_n, w = A⁻¹ y."""
    n, d = x.shape
    a = torch.randn(d, generator=g, dtype=f64).to(x.device)
    z, order = (x @ a).sort()
    b = torch.empty_like(z)
    b[0] = z[0] - 1.0
    b[1:] = (z[:-1] + z[1:]) / 2
    # A_ij = max(z_i − b_j, 0), from the note's LaTeX
    A = evaluate("zhang2016understanding/activation-matrix", z_i=z[:, None], b_j=b[None, :]).to(x)
    # w = A⁻¹ y, from the note's LaTeX; the fit c(x_i) = y_i below is its check, and torch's triangular
    # solver (A is lower triangular) an independent reference
    w = evaluate("zhang2016understanding/solve", A=A, y=y[order]).to(x)
    close(w, torch.linalg.solve_triangular(A, y[order][:, None], upper=False)[:, 0], "A⁻¹ y vs solve_triangular (A is ill-conditioned)",
          atol=1e-6, rtol=1e-6)
    return a, b, w, A


def as_module(a, b, w):
    """c(x) = Σ_j w_j max(⟨a, x⟩ − b_j, 0) as nn.Sequential(Linear(d, n), ReLU, Linear(n, 1, bias=False)),
    every hidden unit sharing the row a."""
    n, d = b.numel(), a.numel()
    net = nn.Sequential(nn.Linear(d, n), nn.ReLU(), nn.Linear(n, 1, bias=False)).to(a.device, f64)
    with torch.no_grad():
        net[0].weight.copy_(a.expand(n, d))
        net[0].bias.copy_(-b)
        net[2].weight.copy_(w[None, :])
    return net


@check("zhang2016understanding/network", tex=r"c(x) = \sum_{j=1}^{n} w_j \max(\langle a, x \rangle - b_j, 0)", evaluates=True)
@check("zhang2016understanding/activation-matrix", tex=r"A_{ij} = \max(z_i - b_j, 0)", evaluates=True)
@check("zhang2016understanding/solve", tex=r"w = A^{-1} y", evaluates=True)
def check_two_layer_relu_memorises_random_labels():
    """n = 60 points in d = 8 dimensions, random labels from 10 classes (and Gaussian targets): A is lower
    triangular with a positive diagonal, the constructed network (2n + d = 128 weights) reproduces every
    target, and the same weights in nn.Linear/nn.ReLU give the same outputs."""
    g = seed(0)
    n, d = 60, 8
    x = torch.randn(n, d, generator=g, dtype=f64).to(device())
    for name, y in (("random labels", torch.randint(0, 10, (n,), generator=g).to(f64).to(device())),
                    ("Gaussian targets", torch.randn(n, generator=g, dtype=f64).to(device()))):
        a, b, w, A = construct(x, y, g)
        close(A.triu(1), torch.zeros_like(A), "A_ij = 0 for j > i")
        close((A.diagonal() > 0).to(f64).mean(), 1.0, "positive diagonal")
        close(a.numel() + b.numel() + w.numel(), 2 * n + d, "weights: 2n + d")
        # c(x) = Σ_j w_j max(⟨a, x⟩ − b_j, 0)
        # (n,): c(x_i) for the sample, original order, from the note's LaTeX
        c = torch.stack([evaluate("zhang2016understanding/network", w=w, a=a, x=x_i, b=b, n=n).reshape(()) for x_i in x])
        close(c, y, f"c(x_i) = y_i for all i ({name})", atol=1e-8, rtol=1e-8)
        close(as_module(a, b, w)(x)[:, 0], c, f"nn.Sequential(Linear, ReLU, Linear) ({name})")
    # the chart: the fitted function along the direction a, through the random labels
    a, b, w, _ = construct(x, (y := torch.randint(0, 10, (n,), generator=g).to(f64).to(device())), g)
    z = x @ a
    grid = torch.linspace(float(z.min()) - 0.5, float(z.max()) + 0.5, 600, dtype=f64, device=z.device)
    along = (w * (grid[:, None] - b).clamp_min(0)).sum(-1)
    close((w * (z[:, None] - b).clamp_min(0)).sum(-1), y, "fit used in the chart", atol=1e-8, rtol=1e-8)
    figure("memorisation", [
        {"type": "scatter", "name": "c along a: Σ_j w_j max(t − b_j, 0)", "x": grid, "y": along, "mode": "lines"},
        {"type": "scatter", "name": "random labels y_i at z_i = ⟨a, x_i⟩", "x": z, "y": y, "mode": "markers"},
    ], {"xaxis": {"title": {"text": "projection t = ⟨a, x⟩"}}, "yaxis": {"title": {"text": "c(x)"}},
        "height": 320, "margin": {"l": 60, "r": 10, "t": 10, "b": 50}})


@check("zhang2016understanding/rademacher",
       tex=r"\hat{\mathfrak{R}}_n(\mathcal{H}) = E_{\sigma}\left[\sup_{h \in \mathcal{H}} \frac{1}{n} \sum_{i=1}^{n} \sigma_i h(x_i)\right]")
def check_rademacher_complexity_is_one():
    """n = 40 points in d = 5 dimensions, 100 sign draws σ. For each σ the construction gives h(x_i) = σ_i,
    reaching the bound 1 for functions in [−1, 1]: the estimate is 1. For the unit-norm linear class the
    supremum is ‖Σ σ_i x_i‖ / n in closed form (attained by w ∝ Σ σ_i x_i) and is far below 1."""
    g = seed(1)
    n, d, draws = 40, 5, 100
    x = torch.randn(n, d, generator=g, dtype=f64).to(device())
    x = x / x.norm(dim=1, keepdim=True)                      # |⟨w, x⟩| ≤ 1 for ‖w‖ ≤ 1
    relu_values, linear_values = [], []
    for _ in range(draws):
        sigma = (torch.randint(0, 2, (n,), generator=g) * 2 - 1).to(f64).to(device())
        a, b, w, _ = construct(x, sigma, g)
        h = (w * ((x @ a)[:, None] - b[None, :]).clamp_min(0)).sum(-1)
        relu_values.append((sigma * h).mean())               # (1/n) Σ σ_i h(x_i)
        best = (sigma[:, None] * x).sum(0)                   # the maximiser direction for the linear class
        w_lin = best / best.norm()
        linear_values.append((sigma * (x @ w_lin)).mean())
        close(linear_values[-1], best.norm() / n, "linear sup in closed form")
    R_relu, R_linear = torch.stack(relu_values).mean(), torch.stack(linear_values).mean()
    close(R_relu, 1.0, "R̂_n of two-layer ReLU nets on the sample", atol=1e-8)
    differs(R_linear, R_relu, "unit-norm linear class vs two-layer ReLU nets", at_least=0.5)


if __name__ == "__main__":
    run_checks(__name__)
