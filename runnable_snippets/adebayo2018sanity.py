"""Checks for notes/adebayo2018sanity.md: gradient saliency, Integrated Gradients (integral and Riemann
sum), SmoothGrad, Spearman's rank correlation, and a toy cascading parameter-randomisation test.

References: central finite differences for the gradient; the closed-form path integral of a quadratic
score (its gradient is linear along the path) and completeness S(x) − S(x̄); the exact expectation of a
cubic score's gradient under Gaussian noise; the Pearson correlation of the rank vectors (torch.corrcoef)
for Spearman's formula.
"""
import torch

from harness import check, close, device, evaluate, evaluate_with, figure, run_checks, seed

d = 8


def mlp(generator, widths=(d, 16, 16, 1)):
    """S: R^d -> R, a tanh MLP; returns (S, weights list) so layers can be re-initialised."""
    weights = [torch.randn(o, i, generator=generator, dtype=torch.float64).to(device()) / i ** 0.5
               for i, o in zip(widths[:-1], widths[1:])]

    def S(x, params=None):
        """x (..., d) -> (...)."""
        h = x
        params = weights if params is None else params
        for W in params[:-1]:
            h = torch.tanh(h @ W.T)
        return (h @ params[-1].T)[..., 0]
    return S, weights


def gradient(S, x):
    """E_grad(x) = ∂S/∂x for a batch x (n, d) -> (n, d), by autograd."""
    x = x.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(S(x).sum(), x)
    return g


@check("adebayo2018sanity/gradient", tex=r"E_{\mathrm{grad}}(x) = \frac{\partial S}{\partial x}", evaluates=True)
def check_gradient_saliency():
    """The note's ∂S/∂x, evaluated from its LaTeX by autograd through S's graph for each of 5 inputs x (d,),
    equals central finite differences of the MLP's score; gradient ⊙ input of a linear score wᵀx + b adds up
    to S(x) − b."""
    g = seed(0)
    S, _ = mlp(g)
    x = torch.randn(5, d, generator=g, dtype=torch.float64).to(device())
    eps = 1e-6
    eye = torch.eye(d, dtype=torch.float64, device=device())
    finite = torch.stack([(S(x + eps * e) - S(x - eps * e)) / (2 * eps) for e in eye], 1)
    for x_k, finite_k in zip(x, finite):
        x_k = x_k.clone().requires_grad_(True)
        # E_grad(x) = ∂S/∂x, S the score computed from x
        E_grad = evaluate("adebayo2018sanity/gradient", S=S(x_k), x=x_k)
        close(E_grad, finite_k, "the note's ∂S/∂x against central finite differences", atol=1e-8)
    close(gradient(S, x), finite, "the batched ∂S/∂x used below against central finite differences", atol=1e-8)
    w, b = torch.randn(d, generator=g, dtype=torch.float64).to(device()), 0.7
    linear = gradient(lambda z: z @ w + b, x)
    close((x * linear).sum(1), x @ w, "Σ x ⊙ ∂S/∂x = S(x) − b for a linear score")


def integrated_gradients(S, x, x_bar, m):
    """(x − x̄) ⊙ (1/m) Σ_{k=1}^{m} ∂S(x̄ + (k/m)(x − x̄))/∂x for one input x (d,) -> (d,)."""
    alphas = torch.arange(1, m + 1, dtype=torch.float64, device=x.device) / m
    path = x_bar + alphas[:, None] * (x - x_bar)
    return (x - x_bar) * gradient(S, path).mean(0)


@check("adebayo2018sanity/integrated-gradients",
       tex=r"E_{\mathrm{IG}}(x) = (x - \bar{x}) \odot \int_{0}^{1} \frac{\partial S\left(\bar{x} + \alpha (x - \bar{x})\right)}{\partial x} \, d\alpha",
       evaluates=True)
@check("adebayo2018sanity/ig-riemann",
       tex=r"E_{\mathrm{IG}}(x) \approx (x - \bar{x}) \odot \frac{1}{m} \sum_{k=1}^{m} \frac{\partial S\left(\bar{x} + \frac{k}{m} (x - \bar{x})\right)}{\partial x}",
       evaluates=True)
def check_integrated_gradients():
    """Quadratic S(x) = ½xᵀAx + cᵀx: the integral is (x − x̄) ⊙ (A(x̄ + (x − x̄)/2) + c) and the m-step
    Riemann sum exceeds it by exactly (x − x̄) ⊙ A(x − x̄)/(2m); completeness Σ E_IG = S(x) − S(x̄) holds
    for the quadratic exactly and for the MLP up to the O(1/m) Riemann error. The note's integral (Gauss-Legendre
    quadrature, ∂S(·)/∂x the gradient of S at the path point, by autograd) and its Riemann sum are evaluated from
    its LaTeX against those closed forms, and the integral against completeness on the MLP."""
    g = seed(1)
    M = torch.randn(d, d, generator=g, dtype=torch.float64).to(device())
    A, c = M @ M.T / d, torch.randn(d, generator=g, dtype=torch.float64).to(device())

    def quadratic(z):
        return 0.5 * ((z @ A) * z).sum(-1) + z @ c
    x, x_bar = torch.randn(d, generator=g, dtype=torch.float64).to(device()), torch.zeros(d, dtype=torch.float64, device=device())
    closed_form = (x - x_bar) * (A @ (x_bar + (x - x_bar) / 2) + c)
    close(closed_form.sum(), quadratic(x) - quadratic(x_bar), "completeness of the exact integral (quadratic)")
    # E_IG(x) = (x − x̄) ⊙ ∫_0^1 ∂S(x̄ + α(x − x̄))/∂x dα, for the zero baseline and a random one
    for baseline in (x_bar, torch.randn(d, generator=g, dtype=torch.float64).to(device())):
        E_IG = evaluate("adebayo2018sanity/integrated-gradients", S=quadratic, x=x, xbar=baseline)
        close(E_IG, (x - baseline) * (A @ (baseline + (x - baseline) / 2) + c),
              "the note's integral against the closed form (quadratic)")
    for m in (1, 10, 100):
        riemann = integrated_gradients(quadratic, x, x_bar, m)
        close(riemann, closed_form + (x - x_bar) * (A @ (x - x_bar)) / (2 * m), f"Riemann sum with m={m} against its exact error term")
    # E_IG(x) ≈ (x − x̄) ⊙ (1/m) Σ_{k=1}^{m} ∂S(x̄ + (k/m)(x − x̄))/∂x  (read left to right, (x − x̄) ⊙ 1/m is a
    # vector, so the juxtaposition with the sum is elementwise)
    riemann_note = evaluate_with("adebayo2018sanity/ig-riemann", {"S": quadratic, "x": x, "xbar": baseline, "m": 10},
                                 elementwise=True)
    close(riemann_note, (x - baseline) * (A @ (baseline + (x - baseline) / 2) + c + A @ (x - baseline) / 20),
          "the note's Riemann sum, m=10, against the integral plus its exact error term")

    S, _ = mlp(g)
    E_IG_mlp = evaluate("adebayo2018sanity/integrated-gradients", S=S, x=x, xbar=baseline)
    close(E_IG_mlp.sum(), S(x) - S(baseline), "completeness Σ E_IG = S(x) − S(x̄) of the note's integral on the MLP",
          atol=1e-9)
    steps = [4, 16, 64, 256, 1024]
    errors = torch.stack([(integrated_gradients(S, x, x_bar, m).sum() - (S(x) - S(x_bar))).abs() for m in steps])
    close(errors[-1], 0.0, "completeness Σ E_IG = S(x) − S(x̄) for the MLP, m = 1024", atol=1e-3)
    close(bool(errors[-1] < errors[0]), True, "the completeness gap shrinks with m")
    figure("ig-completeness", [
        {"type": "scatter", "mode": "lines+markers", "x": steps, "y": errors.cpu(), "name": "|Σ E_IG − (S(x) − S(x̄))|"},
    ], {"xaxis": {"title": "Riemann steps m", "type": "log"}, "yaxis": {"title": "completeness gap", "type": "log"},
        "title": "Integrated Gradients on a tanh MLP: the Riemann-sum gap closes as 1/m"})


@check("adebayo2018sanity/smoothgrad",
       tex=r"\hat{E}_{\mathrm{sg}}(x) = \frac{1}{N} \sum_{i=1}^{N} E\left(x + g_i\right), \quad g_i \sim \mathcal{N}(0, \sigma^2)",
       evaluates=True)
def check_smoothgrad():
    """For S(x) = Σ_j x_j³/3 the gradient is x², so E[Ê_sg(x)] = x² + σ²: the N = 20000 average lies within
    5 standard errors, and so does the note's formula evaluated from its LaTeX (first clause, E the autograd
    gradient map, the first 2000 noise draws g_i). For a linear score SmoothGrad equals the gradient exactly."""
    g = seed(2)
    x = torch.randn(d, generator=g, dtype=torch.float64).to(device())
    sigma, N = 0.3, 20000
    noise = sigma * torch.randn(N, d, generator=g, dtype=torch.float64).to(device())   # g_i ~ N(0, σ²)

    def cubic(z):
        return (z ** 3).sum(-1) / 3
    per_sample = gradient(cubic, x + noise)                               # E(x + g_i)
    # (1/N) Σ_i E(x + g_i)
    smooth = per_sample.mean(0)
    standard_error = per_sample.std(0) / N ** 0.5
    close(smooth, x ** 2 + sigma ** 2, "SmoothGrad of a cubic against x² + σ²", atol=float(5 * standard_error.max()), rtol=0)
    # Ê_sg(x) = (1/N) Σ_{i=1}^{N} E(x + g_i), the note's LaTeX, with N = 2000 draws (autograd per draw)
    N_note = 2000
    smooth_note = evaluate_with("adebayo2018sanity/smoothgrad",
                                {"x": x, "g": noise[:N_note], "N": N_note, "E": lambda z: gradient(cubic, z), "sigma": sigma},
                                clause=0)
    close(smooth_note, x ** 2 + sigma ** 2, "the note's SmoothGrad of a cubic against x² + σ²",
          atol=float(5 * per_sample[:N_note].std(0).max() / N_note ** 0.5), rtol=0)
    w = torch.randn(d, generator=g, dtype=torch.float64).to(device())
    close(gradient(lambda z: z @ w, x + noise[:50]).mean(0), w, "SmoothGrad of a linear score = its gradient")


def ranks(v):
    """Ranks 1..n of the entries of v (n,), no ties expected."""
    return (torch.argsort(torch.argsort(v)) + 1).double()


def spearman(u, v):
    """ρ = 1 − 6 Σ d_i² / (n (n² − 1)) with d_i the rank differences."""
    n = len(u)
    d_i = ranks(u) - ranks(v)
    return 1 - 6 * (d_i ** 2).sum() / (n * (n ** 2 - 1))


@check("adebayo2018sanity/spearman", tex=r"\rho = 1 - \frac{6 \sum_{i=1}^{n} d_i^{2}}{n (n^{2} - 1)}", evaluates=True)
def check_spearman_formula():
    """The note's rank-difference formula, evaluated from its LaTeX on the rank differences d (n = 200),
    equals the Pearson correlation of the rank vectors (torch.corrcoef) on random maps; ρ = 1 under a
    monotone transform and −1 under a sign flip."""
    g = seed(3)
    for _ in range(5):
        u = torch.randn(200, generator=g, dtype=torch.float64)
        v = 0.5 * u + torch.randn(200, generator=g, dtype=torch.float64)
        # ρ = 1 − 6 Σ_i d_i² / (n (n² − 1))
        rho = evaluate("adebayo2018sanity/spearman", d=ranks(u) - ranks(v), n=len(u))
        close(rho, torch.corrcoef(torch.stack([ranks(u), ranks(v)]))[0, 1], "the note's ρ against Pearson of ranks")
        close(spearman(u, v), rho, "the ρ used below against the note's")
    close(spearman(u, torch.exp(3 * u)), 1.0, "ρ(u, monotone(u)) = 1")
    close(spearman(u, -u), -1.0, "ρ(u, −u) = −1")


@check("adebayo2018sanity/spearman", tex=r"\rho = 1 - \frac{6 \sum_{i=1}^{n} d_i^{2}}{n (n^{2} - 1)}")
@check("adebayo2018sanity/gradient", tex=r"E_{\mathrm{grad}}(x) = \frac{\partial S}{\partial x}")
def check_cascading_randomisation_on_a_toy_mlp():
    """Cascading re-initialisation of a 3-layer MLP from the top layer down, on inputs whose entries have a
    fixed magnitude profile (a stand-in for image structure). Spearman ρ of absolute maps with the original
    ones: 1 before any randomisation; the |gradient| map decorrelates once all layers are re-initialised,
    while |gradient ⊙ input| stays correlated because the input's magnitudes dominate its ranking, the
    mechanism the paper points to. A fixed random MLP stands in for the trained model."""
    g = seed(4)
    S, weights = mlp(g)
    profile = torch.logspace(-1, 1, d, dtype=torch.float64, device=device())
    x = profile * torch.randn(64, d, generator=g, dtype=torch.float64).to(device())
    fresh = [torch.randn(W.shape, generator=g, dtype=torch.float64).to(device()) / W.shape[1] ** 0.5 for W in weights]

    def mean_rho(map_a, map_b):
        return torch.stack([spearman(a, b) for a, b in zip(map_a, map_b)]).mean()

    original_grad = gradient(S, x)
    rho_grad, rho_gxi = [], []
    for randomised in range(len(weights) + 1):
        params = weights[:len(weights) - randomised] + fresh[len(weights) - randomised:]
        grad = gradient(lambda z: S(z, params), x)
        rho_grad.append(mean_rho(original_grad.abs(), grad.abs()))
        rho_gxi.append(mean_rho((x * original_grad).abs(), (x * grad).abs()))
    rho_grad, rho_gxi = torch.stack(rho_grad), torch.stack(rho_gxi)
    close(rho_grad[0], 1.0, "no randomisation: |gradient| ρ = 1")
    close(rho_gxi[0], 1.0, "no randomisation: |gradient ⊙ input| ρ = 1")
    close(bool(rho_grad[-1] < 0.3), True, "all layers randomised: ρ of |gradient| < 0.3")
    close(bool(rho_gxi[-1] > 0.5), True, "all layers randomised: ρ of |gradient ⊙ input| still > 0.5")
    labels = ["trained"] + [f"top {k} re-initialised" for k in range(1, len(weights) + 1)]
    figure("cascading-randomization", [
        {"type": "scatter", "mode": "lines+markers", "x": labels, "y": rho_grad.cpu(), "name": "|gradient|"},
        {"type": "scatter", "mode": "lines+markers", "x": labels, "y": rho_gxi.cpu(), "name": "|gradient ⊙ input|"},
    ], {"yaxis": {"title": "mean Spearman ρ with the original map"},
        "title": "Toy cascading randomisation of a 3-layer tanh MLP (not the paper's data)"})


if __name__ == "__main__":
    run_checks(__name__)
