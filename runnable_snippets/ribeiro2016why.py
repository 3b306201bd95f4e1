"""Checks for notes/ribeiro2016why.md: LIME's objective, locally weighted square loss, exponential
kernel and its weighted (ridge) least-squares solution, and SP-LIME's coverage and pick.

References: the Gaussian density (the kernel is an unnormalised Gaussian in the distance),
torch.linalg.lstsq on the sqrt(π)-scaled system against the normal-equation closed form, autograd (the
gradient of the objective vanishes at the solution), exact recovery of a linear black box and of the
gradient of a quadratic one, and brute force over all candidate sets for SP-LIME.
"""
import math

import torch

from harness import check, close, device, evaluate, figure, run_checks, seed

d_prime, n_samples, sigma = 6, 400, 1.5


def black_box(generator):
    """f: R^{d'} -> R, a 6-16-1 tanh MLP in float64 (the model being explained)."""
    W_1 = torch.randn(16, d_prime, generator=generator, dtype=torch.float64).to(device())
    b_1 = torch.randn(16, generator=generator, dtype=torch.float64).to(device())
    w_2 = torch.randn(16, generator=generator, dtype=torch.float64).to(device())

    def f(z):
        """z (..., d') -> (...)."""
        return torch.tanh(z @ W_1.T + b_1) @ w_2
    return f


def neighbourhood(generator, x):
    """z' (n, d') in {0,1} (each component kept with prob. 1/2, plus z' = 1 itself) and z = h_x(z') = x ⊙ z'."""
    z_prime = (torch.rand(n_samples, d_prime, generator=generator, dtype=torch.float64) < 0.5).double().to(device())
    z_prime[0] = 1.0
    return z_prime, z_prime * x


def kernel_weights(x, z):
    """π_x(z) from the note's own LaTeX with D = ||x − z||_2: (n,)."""
    D = (x - z).norm(dim=-1)
    return evaluate("ribeiro2016why/kernel", D=D, sigma=sigma).to(x)


def design(z_prime):
    """Rows [1, z'] (n, d' + 1): the linear explanation g(z') = w_g · z' plus an intercept."""
    return torch.cat([torch.ones_like(z_prime[:, :1]), z_prime], 1)


@check("ribeiro2016why/kernel", tex=r"\pi_x(z) = \exp\left( -\frac{D^{2}}{\mathrm{\sigma}^{2}} \right)", evaluates=True)
def check_kernel_is_an_unnormalised_gaussian():
    """The note's π_x(z) = exp(−D²/σ²), evaluated from its LaTeX, is the density of N(0, σ²/2) relative to
    its peak (torch.distributions.Normal, no constant to derive: log p(D) − log p(0)); its integral over
    the real line (trapezoid on [−12σ, 12σ], 4001 points) is the Gaussian integral σ√π; weight 1 at the
    instance itself, 1/e at D = σ."""
    D = torch.linspace(0, 6, 61, dtype=torch.float64)
    for s in (0.25, 1.0, 1.5, 4.0):
        # π_x(z) = exp(−D² / σ²)
        pi = evaluate("ribeiro2016why/kernel", D=D, sigma=s)
        normal = torch.distributions.Normal(0.0, s / math.sqrt(2.0))
        close(pi, (normal.log_prob(D) - normal.log_prob(torch.zeros(()))).exp(), f"π against N(0, σ²/2) relative to its peak, σ={s}")
        line = torch.linspace(-12 * s, 12 * s, 4001, dtype=torch.float64)
        close(torch.trapezoid(evaluate("ribeiro2016why/kernel", D=line, sigma=s), line), s * math.sqrt(math.pi),
              f"∫ π dD = σ√π (Gaussian integral), σ={s}")
        close(evaluate("ribeiro2016why/kernel", D=s, sigma=s), math.exp(-1.0), f"π at D = σ = {s}")
    close(evaluate("ribeiro2016why/kernel", D=0.0, sigma=sigma), 1.0, "π_x(x) = 1")


@check("ribeiro2016why/explanation", tex=r"\xi(x) = \arg\min_{g \in G} \mathcal{L}(f, g, \pi_x) + \Omega(g)")
@check("ribeiro2016why/locality-loss",
       tex=r"\mathcal{L}(f, g, \pi_x) = \sum_{z, z' \in \mathcal{Z}} \pi_x(z) \left( f(z) - g(z') \right)^{2}")
@check("ribeiro2016why/weighted-ridge",
       tex=r"\hat{w}_g = (Z^\top \Pi Z + \lambda I)^{-1} Z^\top \Pi \, y", evaluates=True)
def check_weighted_ridge_solves_the_lime_objective():
    """For an MLP black box: torch.linalg.lstsq on the sqrt(π)-scaled (and, for λ > 0, ridge-augmented)
    system equals the closed form (ZᵀΠZ + λI)⁻¹ZᵀΠy, and the gradient of L(f, g, π_x) + λ||w_g||² is zero
    there, for λ = 0 (plain weighted least squares, K-LASSO's last step) and λ = 1."""
    g_ = seed(0)
    f = black_box(g_)
    x = torch.randn(d_prime, generator=g_, dtype=torch.float64).to(device())
    z_prime, z = neighbourhood(g_, x)
    pi = kernel_weights(x, z)
    Z, y = design(z_prime), f(z)
    for lam in (0.0, 1.0):
        # (Zᵀ Π Z + λ I)⁻¹ Zᵀ Π y
        closed_form = torch.linalg.solve(Z.T @ (pi[:, None] * Z) + lam * torch.eye(Z.shape[1], dtype=Z.dtype, device=Z.device),
                                         Z.T @ (pi * y))
        A = torch.cat([pi.sqrt()[:, None] * Z, math.sqrt(lam) * torch.eye(Z.shape[1], dtype=Z.dtype, device=Z.device)])
        b = torch.cat([pi.sqrt() * y, torch.zeros(Z.shape[1], dtype=Z.dtype, device=Z.device)])
        w_lstsq = torch.linalg.lstsq(A.cpu(), b.cpu()[:, None]).solution[:, 0].to(Z)
        close(w_lstsq, closed_form, f"lstsq against the closed form, λ={lam}")
        # ŵ_g = (Zᵀ Π Z + λ I)⁻¹ Zᵀ Π y, the note's LaTeX, against torch.linalg.lstsq
        w_note = evaluate("ribeiro2016why/weighted-ridge", Z=Z, Pi=torch.diag(pi), I=torch.eye(Z.shape[1], dtype=Z.dtype, device=Z.device),
                          y=y, **{"lambda": lam})
        close(w_note, w_lstsq, f"the note's ŵ_g against torch.linalg.lstsq, λ={lam}")

        w_g = closed_form.clone().requires_grad_(True)
        # L(f, g, π_x) = Σ π_x(z) (f(z) − g(z'))², Ω(g) = λ ||w_g||²
        objective = (pi * (y - Z @ w_g) ** 2).sum() + lam * (w_g ** 2).sum()
        (gradient,) = torch.autograd.grad(objective, w_g)
        close(gradient, torch.zeros_like(gradient), f"∇(L + Ω) at the solution, λ={lam}", atol=1e-9)


@check("ribeiro2016why/explanation", tex=r"\xi(x) = \arg\min_{g \in G} \mathcal{L}(f, g, \pi_x) + \Omega(g)")
@check("ribeiro2016why/locality-loss",
       tex=r"\mathcal{L}(f, g, \pi_x) = \sum_{z, z' \in \mathcal{Z}} \pi_x(z) \left( f(z) - g(z') \right)^{2}")
def check_linear_black_box_is_recovered_exactly():
    """f(z) = aᵀz + b with z = x ⊙ z' is linear in z': f(h_x(z')) = b + Σ_j (a_j x_j) z'_j. LIME's fit
    (Ω = 0) returns intercept b and weights a_j x_j, and the loss at ξ(x) is zero."""
    g_ = seed(1)
    a = torch.randn(d_prime, generator=g_, dtype=torch.float64).to(device())
    b = float(torch.randn((), generator=g_, dtype=torch.float64))
    x = torch.randn(d_prime, generator=g_, dtype=torch.float64).to(device())
    z_prime, z = neighbourhood(g_, x)
    pi = kernel_weights(x, z)
    Z, y = design(z_prime), z @ a + b
    w_g = torch.linalg.lstsq((pi.sqrt()[:, None] * Z).cpu(), (pi.sqrt() * y).cpu()[:, None]).solution[:, 0].to(Z)
    close(w_g[0], b, "intercept = b")
    close(w_g[1:], a * x, "w_g = a ⊙ x (the true coefficients in the interpretable space)")
    loss = (pi * (y - Z @ w_g) ** 2).sum()
    close(loss, 0.0, "L(f, ξ(x), π_x) = 0", atol=1e-18)


@check("ribeiro2016why/weighted-ridge",
       tex=r"\hat{w}_g = (Z^\top \Pi Z + \lambda I)^{-1} Z^\top \Pi \, y")
@check("ribeiro2016why/kernel", tex=r"\pi_x(z) = \exp\left( -\frac{D^{2}}{\mathrm{\sigma}^{2}} \right)")
def check_continuous_lime_approaches_the_gradient():
    """Continuous perturbations z = x + δ (antithetic pairs ±δ), Π from the kernel, λ = 0: for a quadratic
    black box the slope of the fit equals ∇f(x) exactly (the curvature term is even in δ and goes into the
    intercept); for the MLP the slope tends to ∇f(x) (autograd) as σ shrinks."""
    g_ = seed(2)
    x = torch.randn(d_prime, generator=g_, dtype=torch.float64).to(device())
    eps = torch.randn(200, d_prime, generator=g_, dtype=torch.float64).to(device())
    eps = torch.cat([eps, -eps])                                    # antithetic pairs

    def fit(f, s):
        delta = s * eps
        pi = evaluate("ribeiro2016why/kernel", D=delta.norm(dim=-1), sigma=s).to(x)
        Z = torch.cat([torch.ones_like(delta[:, :1]), delta], 1)
        # ŵ_g = (ZᵀΠZ)⁻¹ ZᵀΠ y
        w = torch.linalg.solve(Z.T @ (pi[:, None] * Z), Z.T @ (pi * f(x + delta)))
        return w[1:]

    M = torch.randn(d_prime, d_prime, generator=g_, dtype=torch.float64).to(device())
    A, c = M @ M.T, torch.randn(d_prime, generator=g_, dtype=torch.float64).to(device())

    def quadratic(z):
        return 0.5 * ((z @ A) * z).sum(-1) + z @ c
    close(fit(quadratic, 0.7), A @ x + c, "slope of the LIME fit = ∇f(x) for a quadratic f")

    f = black_box(g_)
    x_ = x.clone().requires_grad_(True)
    (grad_f,) = torch.autograd.grad(f(x_), x_)
    sigmas = torch.tensor([1.0, 0.5, 0.25, 0.1, 0.05, 0.02, 0.01], dtype=torch.float64)
    errors = torch.stack([(fit(f, float(s)) - grad_f).norm() / grad_f.norm() for s in sigmas])
    close(errors[-1], 0.0, "relative distance to ∇f(x) at σ = 0.01", atol=1e-3)
    close(errors[0] > errors[-1], True, "the fit is closer to the gradient for a narrower kernel")
    figure("lime-locality", [
        {"type": "scatter", "mode": "lines+markers", "x": sigmas, "y": errors.cpu(),
         "name": "||w_g − ∇f(x)|| / ||∇f(x)||"},
    ], {"xaxis": {"title": "kernel width σ", "type": "log"}, "yaxis": {"title": "relative error", "type": "log"},
        "title": "Continuous LIME on a tanh MLP: the slope approaches the gradient as σ shrinks"})


def coverage(V, W, I):
    """c(V, W, I) = Σ_j 1[∃ i ∈ V : W_ij > 0] I_j; V a tuple of row indices."""
    if not V:
        return 0.0
    covered = (W[list(V)] > 0).any(0)
    return float((covered.double() * I).sum())


@check("ribeiro2016why/importance", tex=r"I_j = \sqrt{\sum_{i=1}^{n} W_{ij}}", evaluates=True)
@check("ribeiro2016why/coverage",
       tex=r"c(V, W, I) = \sum_{j=1}^{d'} \mathbb{1}_{[\exists i \in V : W_{ij} > 0]} \, I_j", evaluates=True)
@check("ribeiro2016why/pick", tex=r"\operatorname{Pick}(W, I) = \arg\max_{V, |V| \le B} c(V, W, I)")
def check_submodular_pick_against_brute_force():
    """On a sparse 8 × 10 explanation matrix: coverage is monotone and submodular (checked on every set
    A ⊆ A' = A ∪ {extra} and every new instance), greedy picking reaches at least (1 − 1/e) of the
    brute-force Pick for every budget B, and picking all instances covers Σ_j I_j over the used features."""
    g_ = seed(3)
    n, d = 8, 10
    W = torch.randn(n, d, generator=g_, dtype=torch.float64).abs() * (torch.rand(n, d, generator=g_) < 0.3)
    # I_j = sqrt(Σ_{i=1}^{n} W_ij), the note's LaTeX for each feature j (1-based, as the paper counts)
    I = torch.stack([evaluate("ribeiro2016why/importance", W=W, n=n, j=j) for j in range(1, d + 1)])
    close(I, torch.linalg.vector_norm(W.sqrt(), dim=0), "I_j against the 2-norm of the column √W_{:,j}")
    close((I ** 2).sum(), W.sum(), "Σ_j I_j² = Σ_ij W_ij")
    # c for every subset, indexed by its bitmask
    c = [coverage(tuple(i for i in range(n) if mask >> i & 1), W, I) for mask in range(2 ** n)]
    for mask in range(0, 2 ** n, 7):
        V = [i for i in range(n) if mask >> i & 1]
        # c(V, W, I) = Σ_{j=1}^{d'} 1[∃ i ∈ V : W_ij > 0] I_j, from the note's LaTeX (rows and features from 1)
        c_note = evaluate("ribeiro2016why/coverage", V=[i + 1 for i in V], W=W, I=I, **{"d'": d})
        covered = set().union(*(set(W[i].nonzero()[:, 0].tolist()) for i in V))
        close(c_note, I[sorted(covered)].sum(), f"coverage of V = {V} vs Σ I_j over the union of their features")
        close(c_note, c[mask], f"coverage of V = {V} vs the helper used below")
    worst_submodularity, worst_monotonicity = 0.0, 0.0
    for A in range(2 ** n):
        for extra in range(n):
            if A >> extra & 1:
                continue
            A_bigger = A | 1 << extra
            worst_monotonicity = min(worst_monotonicity, c[A_bigger] - c[A])
            for i in range(n):
                if not A_bigger >> i & 1:
                    worst_submodularity = min(worst_submodularity, (c[A | 1 << i] - c[A]) - (c[A_bigger | 1 << i] - c[A_bigger]))
    close(worst_monotonicity, 0.0, "c(A ∪ {i}) − c(A) ≥ 0 everywhere")
    close(worst_submodularity, 0.0, "diminishing returns: gain on A ≥ gain on A' ⊇ A")

    for B in range(1, n + 1):
        # Pick(W, I) = argmax_{|V| ≤ B} c(V, W, I), by brute force over all 2^n sets
        best = max(c[mask] for mask in range(2 ** n) if bin(mask).count("1") <= B)
        V = 0
        for _ in range(B):
            V = max((V | 1 << i for i in range(n) if not V >> i & 1), key=lambda bigger: c[bigger])
        close(c[V] >= (1 - 1 / math.e) * best - 1e-12, True, f"greedy ≥ (1 − 1/e) · optimum, B={B}")
    close(c[2 ** n - 1], float(I[(W > 0).any(0)].sum()), "c(all instances) = Σ of used features' I_j")


if __name__ == "__main__":
    run_checks(__name__)
