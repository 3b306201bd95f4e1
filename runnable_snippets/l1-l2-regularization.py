"""Checks for notes/l1-l2-regularization.md: L2 as a Gaussian-prior MAP (λ = σ²/τ²) and the ridge solution,
including d > n; L1 as a Laplace-prior MAP, soft-thresholding, ISTA and the Lasso optimality conditions;
the orthogonal-design closed forms (with a chart); the constrained form; weight decay vs L2 for SGD and for
Adam/AdamW.

References: torch.distributions.Normal / Laplace log-likelihoods, autograd, torch.linalg.lstsq on the
augmented system, torch.linalg.matrix_rank, F.softshrink and a brute-force grid, projected gradient descent,
torch.optim.SGD(weight_decay), torch.optim.Adam(weight_decay) and torch.optim.AdamW.
"""
import math

import torch
import torch.nn.functional as F

from harness import check, close, device, differs, evaluate, evaluate_with, figure, holds, run_checks, seed

f64 = torch.float64


def randn(g, *shape):
    return torch.randn(*shape, generator=g, dtype=f64).to(device())


def regression_problem(g, n, d, noise=0.5):
    """X: (n, d), y: (n,) from a random linear model with Gaussian noise."""
    X = randn(g, n, d)
    return X, X @ randn(g, d) + noise * randn(g, n)


def ridge(X, y, lam):
    """X: (n, d), y: (n,) -> w*: (d,), from the note's LaTeX."""
    # w* = (XᵀX + λI)⁻¹ Xᵀy
    return evaluate("l1-l2-regularization/ridge-solution", X=X, y=y, I=torch.eye(X.shape[1], dtype=f64, device=X.device),
                    **{"lambda": lam})


@check("l1-l2-regularization/gaussian-posterior",
       tex=r"-\log p(w \mid X, y) = \frac{1}{2\sigma^2} \|y - Xw\|_2^2 + \frac{1}{2\tau^2} \|w\|_2^2 + \text{const}",
       evaluates=True)
@check("l1-l2-regularization/ridge-lambda", tex=r"\lambda = \frac{\sigma^2}{\tau^2}", evaluates=True)
@check("l1-l2-regularization/ridge-solution", tex=r"w^* = \left(X^\top X + \lambda I\right)^{-1} X^\top y",
       evaluates=True)
def check_ridge_is_the_gaussian_map():
    """n = 30, d = 5, σ = 0.5, τ = 0.8. The note's negative log posterior (plus the constant
    n/2 log 2πσ² + d/2 log 2πτ²) equals −Σ log N(y; Xw, σ²) − Σ log N(w; 0, τ²) from torch.distributions;
    with λ = σ²/τ² the ridge solution zeroes its autograd gradient and matches lstsq on [X; √λ I]."""
    g = seed(0)
    n, d, sigma, tau = 30, 5, 0.5, 0.8
    X, y = regression_problem(g, n, d)

    def neg_log_posterior(w):
        return (-torch.distributions.Normal(X @ w, sigma).log_prob(y).sum()
                - torch.distributions.Normal(torch.zeros_like(w), tau).log_prob(w).sum())

    const = n / 2 * math.log(2 * math.pi * sigma ** 2) + d / 2 * math.log(2 * math.pi * tau ** 2)
    for w in (randn(g, d), torch.zeros(d, dtype=f64, device=device())):
        # −log p(w|X, y) = ‖y − Xw‖²/(2σ²) + ‖w‖²/(2τ²) + const
        formula = evaluate("l1-l2-regularization/gaussian-posterior", X=X, y=y, w=w, sigma=sigma, tau=tau, const=const)
        close(formula, neg_log_posterior(w), "negative log posterior vs torch.distributions")
    # λ = σ²/τ²
    lam_t = evaluate("l1-l2-regularization/ridge-lambda", sigma=sigma, tau=tau)
    lam = float(lam_t)
    w_star = ridge(X, y, lam).requires_grad_(True)
    # reference for λ: the penalty weight at which ridge's normal equations hold at the MAP estimate found by
    # minimising torch.distributions' negative log posterior (L-BFGS): Xᵀ(Xw − y) + λw = 0, solved for λ
    w_map = torch.zeros(d, dtype=f64, device=device(), requires_grad=True)
    optimiser = torch.optim.LBFGS([w_map], lr=1, max_iter=200, tolerance_grad=1e-14, tolerance_change=1e-16,
                                  line_search_fn="strong_wolfe")

    def closure():
        optimiser.zero_grad()
        loss = neg_log_posterior(w_map)
        loss.backward()
        return loss

    optimiser.step(closure)
    w_map = w_map.detach()
    residual_gradient = X.T @ (X @ w_map - y)
    close(lam_t, -(residual_gradient @ w_map) / (w_map @ w_map), "λ vs the ridge weight of the MAP estimate",
          rtol=1e-6, atol=0)
    (grad,) = torch.autograd.grad(neg_log_posterior(w_star), w_star)
    close(grad, torch.zeros(d, dtype=f64, device=device()), "∇(−log posterior) at w* with λ = σ²/τ²", atol=1e-9)
    wrong = ridge(X, y, sigma / tau).requires_grad_(True)           # λ = σ/τ (not squared) is not the MAP
    differs(torch.autograd.grad(neg_log_posterior(wrong), wrong)[0], grad, "gradient at w* for λ = σ/τ")
    augmented = torch.cat([X, math.sqrt(lam) * torch.eye(d, dtype=f64, device=device())])
    target = torch.cat([y, torch.zeros(d, dtype=f64, device=device())])
    close(w_star, torch.linalg.lstsq(augmented.cpu(), target.cpu()[:, None]).solution[:, 0].to(device()),
          "w* vs lstsq on [X; √λ I]")


@check("l1-l2-regularization/ridge-solution", tex=r"w^* = \left(X^\top X + \lambda I\right)^{-1} X^\top y")
def check_ridge_makes_an_underdetermined_problem_solvable():
    """d = 8 > n = 5: rank(XᵀX) = 5 < 8 (singular) while XᵀX + 0.1 I has rank 8 and eigenvalues ≥ 0.1;
    the ridge solution solves the normal equations (XᵀX + λI) w = Xᵀy."""
    g = seed(1)
    X, y = regression_problem(g, 5, 8)
    lam = 0.1
    A = X.T @ X
    close(torch.linalg.matrix_rank(A.cpu()).to(f64), 5.0, "rank XᵀX")
    close(torch.linalg.matrix_rank((A + lam * torch.eye(8, dtype=f64, device=device())).cpu()).to(f64), 8.0,
          "rank XᵀX + λI")
    smallest = torch.linalg.eigvalsh(A + lam * torch.eye(8, dtype=f64, device=device())).min()
    close(smallest, lam, "smallest eigenvalue of XᵀX + λI = λ (XᵀX has a null space)", atol=1e-9)
    w = ridge(X, y, lam)
    close((A + lam * torch.eye(8, dtype=f64, device=device())) @ w, X.T @ y, "normal equations")


@check("l1-l2-regularization/laplace-posterior",
       tex=r"-\log p(w \mid X, y) = \frac{1}{2\sigma^2} \|y - Xw\|_2^2 + \frac{1}{b} \|w\|_1 + \text{const}",
       evaluates=True)
def check_laplace_prior_gives_l1():
    """σ = 0.5, b = 0.3: the note's expression plus n/2 log 2πσ² + d log 2b equals the torch.distributions
    negative log posterior with a Laplace(0, b) prior; times σ² it is ½‖y − Xw‖² + λ‖w‖₁ + const with λ = σ²/b."""
    g = seed(2)
    n, d, sigma, b = 20, 6, 0.5, 0.3
    X, y = regression_problem(g, n, d)
    const = n / 2 * math.log(2 * math.pi * sigma ** 2) + d * math.log(2 * b)
    values = []
    for w in (randn(g, d), 0.1 * randn(g, d)):
        reference = (-torch.distributions.Normal(X @ w, sigma).log_prob(y).sum()
                     - torch.distributions.Laplace(torch.zeros_like(w), b).log_prob(w).sum())
        # −log p(w|X, y) = ‖y − Xw‖²/(2σ²) + ‖w‖₁/b + const
        formula = evaluate("l1-l2-regularization/laplace-posterior", X=X, y=y, w=w, sigma=sigma, b=b, const=const)
        close(formula, reference, "negative log posterior with a Laplace prior")
        lam = sigma ** 2 / b
        values.append((sigma ** 2 * reference, 0.5 * ((y - X @ w) ** 2).sum() + lam * w.abs().sum()))
    # the constant cancels in differences: σ² × (−log posterior) = ½‖y − Xw‖² + λ‖w‖₁ + const
    close(values[0][0] - values[1][0], values[0][1] - values[1][1], "σ² (−log posterior) vs the L1 objective, λ = σ²/b")


@check("l1-l2-regularization/soft-threshold",
       tex=r"\left[\operatorname{prox}_{\eta\lambda}(v)\right]_j = \operatorname{sign}(v_j) \max\left(|v_j| - \eta\lambda, 0\right)",
       evaluates=True)
def check_soft_thresholding_is_the_l1_prox():
    """v: 9 values in [−3, 3], ηλ = 0.7: the formula against F.softshrink and against the minimiser of
    ½(w − v)² + ηλ|w| found by brute force on a grid of step 10⁻⁴ over [−4, 4]."""
    v = torch.tensor([-3.0, -1.2, -0.7, -0.3, 0.0, 0.2, 0.69, 1.5, 3.0], dtype=f64)
    eta_lambda = 0.7
    # [prox(v)]_j = sign(v_j) max(|v_j| − ηλ, 0)
    prox = evaluate_with("l1-l2-regularization/soft-threshold", {"v_j": v, "eta": eta_lambda, "lambda": 1.0},
                         elementwise=True)
    close(prox, F.softshrink(v, eta_lambda), "soft threshold vs F.softshrink")
    grid = torch.linspace(-4, 4, 80_001, dtype=f64)
    objective = 0.5 * (grid[None, :] - v[:, None]) ** 2 + eta_lambda * grid.abs()[None, :]
    close(prox, grid[objective.argmin(1)], "soft threshold vs brute-force argmin", atol=1e-4, rtol=0)


@check("l1-l2-regularization/l1-objective", tex=r"\tilde J(w) = J(w) + \lambda \|w\|_1", evaluates=True)
@check("l1-l2-regularization/ista", tex=r"w_{t+1} = \operatorname{prox}_{\eta\lambda}\left(w_t - \eta \nabla J(w_t)\right)",
       evaluates=True)
def check_ista_reaches_a_sparse_lasso_solution():
    """n = 40, d = 10, true w with 3 nonzeros, λ = 8, η = 1/λ_max(XᵀX). ISTA (gradient step, then
    F.softshrink) converges to a point meeting the Lasso optimality conditions: X_jᵀ(y − Xw) = λ sign(w_j)
    where w_j ≠ 0 and |X_jᵀ(y − Xw)| ≤ λ where w_j = 0; some coefficients are exactly zero; and it has a
    lower L1 objective than the least-squares and ridge solutions. The last 20 steps are the note's ISTA step,
    evaluated from its LaTeX (∇J by autograd of J, prox_{ηλ} = F.softshrink), and must land on the fixed point."""
    g = seed(3)
    n, d, lam = 40, 10, 8.0
    X = randn(g, n, d)
    w_true = torch.zeros(d, dtype=f64, device=device())
    w_true[:3] = torch.tensor([3.0, -2.0, 1.5], dtype=f64)
    y = X @ w_true + 0.5 * randn(g, n)
    eta = 1 / float(torch.linalg.eigvalsh(X.T @ X).max())
    w = torch.zeros(d, dtype=f64, device=device())
    for _ in range(3000):
        grad_J = X.T @ (X @ w - y)                                   # ∇J for J = ½‖y − Xw‖²
        # w_{t+1} = prox_{ηλ}(w_t − η ∇J(w_t))
        w = F.softshrink(w - eta * grad_J, eta * lam)
    step = {"J": lambda u: 0.5 * ((y - X @ u) ** 2).sum(), "eta": eta,
            "prox_etalambda": lambda v: F.softshrink(v, eta * lam)}
    w_note = w
    for _ in range(20):
        # w_{t+1} = prox_{ηλ}(w_t − η ∇J(w_t)), from the note's LaTeX
        w_note = evaluate("l1-l2-regularization/ista", w_t=w_note, **step).to(w)
    close(w_note, w, "the note's ISTA step keeps the Lasso fixed point", atol=1e-12)
    c = X.T @ (y - X @ w)
    nonzero = w != 0
    close(c[nonzero], lam * torch.sign(w[nonzero]), "X_jᵀ(y − Xw) = λ sign(w_j) on the support", atol=1e-8)
    close(torch.clamp(c[~nonzero].abs() - lam, min=0), torch.zeros(int((~nonzero).sum()), dtype=f64, device=device()),
          "|X_jᵀ(y − Xw)| ≤ λ off the support", atol=1e-8)
    close(float((~nonzero).sum() >= 3), 1.0, f"sparse: {int((~nonzero).sum())} of {d} coefficients are exactly 0")

    def l1_objective(v):
        # J̃(w) = J(w) + λ‖w‖₁, from the note's LaTeX, with J(w) = ½‖y − Xw‖²
        return evaluate("l1-l2-regularization/l1-objective", J=lambda u: 0.5 * ((y - X @ u) ** 2).sum(), w=v,
                        **{"lambda": lam})

    for other, name in ((ridge(X, y, 0.0), "least squares"), (ridge(X, y, lam), "ridge")):
        close(torch.clamp(l1_objective(w) - l1_objective(other), min=0), 0.0, f"ISTA beats {name} on J̃")


@check("l1-l2-regularization/orthogonal-design",
       tex=r"w^{\mathrm{lasso}}_j = \operatorname{sign}(z_j) \max\left(|z_j| - \lambda, 0\right), \qquad w^{\mathrm{ridge}}_j = \frac{z_j}{1 + \lambda}",
       evaluates=True)
def check_orthogonal_design_closed_forms():
    """X: (20, 6) with orthonormal columns (QR), λ = 0.8, z = Xᵀy. Lasso: the closed form against 500 ISTA
    steps from zero with η = 0.5; ridge: the note's formula (evaluated) against torch.linalg.solve.
    Publishes the shrinkage chart."""
    g = seed(4)
    X = torch.linalg.qr(randn(g, 20, 6)).Q
    y = X @ torch.tensor([2.5, -1.5, 0.6, -0.3, 0.1, 1.0], dtype=f64, device=device()) + 0.1 * randn(g, 20)
    lam, z = 0.8, X.T @ y
    lasso = torch.sign(z) * torch.clamp(z.abs() - lam, min=0)
    w = torch.zeros(6, dtype=f64, device=device())
    for _ in range(500):
        w = F.softshrink(w - 0.5 * (X.T @ (X @ w - y)), 0.5 * lam)
    close(lasso, w, "lasso closed form vs ISTA", atol=1e-10)
    close(float((lasso == 0).sum() > 0), 1.0, "some lasso coefficients are exactly 0")
    ridge_formula = evaluate("l1-l2-regularization/orthogonal-design", z_j=z, **{"lambda": lam}).to(z)
    close(ridge_formula, ridge(X, y, lam), "ridge closed form vs solve")
    z_axis = torch.linspace(-3, 3, 121, dtype=f64)
    figure("shrinkage", [
        {"type": "scatter", "mode": "lines", "name": "no penalty", "x": z_axis, "y": z_axis, "line": {"dash": "dot", "color": "#888"}},
        {"type": "scatter", "mode": "lines", "name": "L1 / lasso (λ = 0.8)", "x": z_axis,
         "y": torch.sign(z_axis) * torch.clamp(z_axis.abs() - lam, min=0)},
        {"type": "scatter", "mode": "lines", "name": "L2 / ridge (λ = 0.8)", "x": z_axis,
         "y": evaluate("l1-l2-regularization/orthogonal-design", z_j=z_axis, **{"lambda": lam})},
    ], {"xaxis": {"title": {"text": "z_j = X_jᵀ y"}}, "yaxis": {"title": {"text": "estimated w_j"}},
        "height": 320, "margin": {"l": 60, "r": 10, "t": 10, "b": 50}})


@check("l1-l2-regularization/constrained", tex=r"\min_{w} J(w) \quad \text{s.t.} \quad \|w\|_2^2 \le c")
def check_penalty_equals_constraint():
    """n = 30, d = 4, λ = 20: projected gradient descent on J = ½‖y − Xw‖² over the ball ‖w‖² ≤ c with
    c = ‖w_λ‖² converges to the ridge solution w_λ; the constraint is active and ∇J(w_λ) = −2μ w_λ with
    multiplier μ = λ/2."""
    g = seed(5)
    X, y = regression_problem(g, 30, 4)
    lam = 20.0
    w_lambda = ridge(X, y, lam)
    c = float((w_lambda ** 2).sum())
    eta = 1 / float(torch.linalg.eigvalsh(X.T @ X).max())
    w = torch.zeros(4, dtype=f64, device=device())
    for _ in range(2000):
        w = w - eta * (X.T @ (X @ w - y))
        w = w * min(1.0, math.sqrt(c) / float(w.norm()))               # project onto ‖w‖² ≤ c
    close(w, w_lambda, "constrained optimum vs ridge solution", atol=1e-9)
    differs((ridge(X, y, 0.0) ** 2).sum(), c, "the unconstrained optimum lies outside the ball")
    mu = lam / 2
    close(X.T @ (X @ w_lambda - y), -2 * mu * w_lambda, "∇J(w_λ) = −2μ w_λ, μ = λ/2")


@check("l1-l2-regularization/l2-objective", tex=r"\tilde J(w) = J(w) + \frac{\lambda}{2} \|w\|_2^2", evaluates=True)
@check("l1-l2-regularization/sgd-l2",
       tex=r"w_{t+1} = w_t - \eta \left(\nabla J(w_t) + \lambda' w_t\right) = (1 - \eta\lambda') w_t - \eta \nabla J(w_t)",
       evaluates=True)
@check("l1-l2-regularization/decoupled-sgd", tex=r"w_{t+1} = (1 - \lambda) w_t - \eta \nabla J(w_t)", evaluates=True)
@check("l1-l2-regularization/sgd-equivalence", tex=r"\lambda' = \frac{\lambda}{\eta}", evaluates=True)
def check_sgd_weight_decay_is_l2():
    """A random quadratic J in 6 dimensions, η = 0.05, per-step decay λ = 0.01. Ten steps of
    torch.optim.SGD(weight_decay=λ') with λ' evaluated from the note, ten steps of plain SGD on
    J + λ'/2 ‖w‖² (autograd), ten steps of the note's L2 step (both of its forms) and ten of its decoupled step
    (1 − λ) w − η∇J, evaluated from the LaTeX with ∇J by autograd, all coincide. J̃'s value against
    torch.distributions: for J = ½‖y − Xw‖² and λ = σ²/τ², J̃ = σ² × (−log posterior) up to a constant."""
    g = seed(6)
    M = randn(g, 6, 6)
    A, b = M @ M.T / 6 + torch.eye(6, dtype=f64, device=device()), randn(g, 6)
    w_0 = randn(g, 6)
    eta, lam = 0.05, 0.01
    # λ' = λ / η, from the note's LaTeX
    lam_prime_t = evaluate("l1-l2-regularization/sgd-equivalence", **{"lambda": lam, "eta": eta})
    # reference: the weight_decay at which one torch.optim.SGD step with zero loss gradient shrinks w by 1 − λ
    # (torch's shrink, 1 − w_1/w_0, is linear in weight_decay: measured at weight_decay = 1, then scaled)
    probe = torch.ones(1, dtype=f64, device=device(), requires_grad=True)
    probe.grad = torch.zeros_like(probe)
    torch.optim.SGD([probe], lr=eta, weight_decay=1.0).step()
    close(lam_prime_t, lam / (1 - float(probe.detach())), "λ' vs the weight_decay giving torch's step a shrink of 1 − λ")
    lam_prime = float(lam_prime_t)

    def J(w):
        return 0.5 * w @ A @ w - b @ w

    torch_wd = w_0.clone().requires_grad_(True)
    sgd_wd = torch.optim.SGD([torch_wd], lr=eta, weight_decay=lam_prime)
    penalised = w_0.clone().requires_grad_(True)
    sgd_plain = torch.optim.SGD([penalised], lr=eta)
    w, w_l2 = w_0.clone(), w_0.clone()
    for _ in range(10):
        sgd_wd.zero_grad()
        J(torch_wd).backward()
        sgd_wd.step()
        sgd_plain.zero_grad()
        # J̃(w) = J(w) + λ/2 ‖w‖², from the note's LaTeX with λ = λ'
        evaluate("l1-l2-regularization/l2-objective", J=J, w=penalised, **{"lambda": lam_prime}).backward()
        sgd_plain.step()
        # w_{t+1} = w_t − η (∇J(w_t) + λ' w_t) = (1 − ηλ') w_t − η ∇J(w_t): w_{t+1} is torch's iterate, and both
        # forms of the step from the previous one must equal it
        l2_step = {"w_t": w_l2, "eta": eta, "lambda'": lam_prime, "J": J, "w_t+1": torch_wd.detach()}
        holds("l1-l2-regularization/sgd-l2", **l2_step)
        w_l2 = evaluate("l1-l2-regularization/sgd-l2", **l2_step).to(w)
        close(w_l2, torch_wd.detach(), "the note's L2 step vs SGD(weight_decay=λ')")
        # w_{t+1} = (1 − λ) w_t − η ∇J(w_t)
        w = evaluate("l1-l2-regularization/decoupled-sgd", w_t=w, eta=eta, J=J, **{"lambda": lam}).to(w)
    close(torch_wd.detach(), penalised.detach(), "SGD(weight_decay=λ') vs SGD on J + λ'/2‖w‖²")
    close(w, torch_wd.detach(), "the note's decoupled (1 − λ) w − η∇J vs SGD(weight_decay=λ/η)")
    differs(w, w_0, "the iterates moved")
    # J̃ = σ² (−log p(w | X, y)) + const for J = ½‖y − Xw‖², λ = σ²/τ²: differences cancel the constant
    X, y = regression_problem(g, 20, 6)
    sigma, tau = 0.5, 0.8

    def scaled_neg_log_posterior(v):
        return sigma ** 2 * (-torch.distributions.Normal(X @ v, sigma).log_prob(y).sum()
                             - torch.distributions.Normal(torch.zeros_like(v), tau).log_prob(v).sum())
    w_a, w_b = randn(g, 6), randn(g, 6)
    J_tilde = [evaluate("l1-l2-regularization/l2-objective", J=lambda u: 0.5 * ((y - X @ u) ** 2).sum(), w=v,
                        **{"lambda": sigma ** 2 / tau ** 2}) for v in (w_a, w_b)]
    close(J_tilde[0] - J_tilde[1], scaled_neg_log_posterior(w_a) - scaled_neg_log_posterior(w_b),
          "J̃(w_a) − J̃(w_b) vs σ² × the difference of torch.distributions' negative log posteriors")


@check("l1-l2-regularization/adam-l2", tex=r"g_t = \nabla f(\theta_{t-1}) + \lambda \theta_{t-1}", evaluates=True)
@check("l1-l2-regularization/adamw",
       tex=r"\theta_t = \theta_{t-1} - \gamma \cdot \left(\frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon} + \lambda \theta_{t-1}\right)",
       evaluates=True)
def check_adam_l2_differs_from_adamw():
    """A badly scaled quadratic f in 8 dimensions, γ = 0.01, λ = 0.1, 20 steps. Hand-written Adam on
    g_t = ∇f + λθ (the note's, evaluated, ∇f by autograd) matches torch.optim.Adam(weight_decay=λ); the note's AdamW update (evaluated) on moments of
    ∇f alone matches torch.optim.AdamW(weight_decay=λ); the two trajectories differ."""
    g = seed(7)
    scales = torch.logspace(-2, 2, 8, dtype=f64).to(device())
    A, b, theta_0 = torch.diag(scales), randn(g, 8), randn(g, 8)
    gamma, lam, beta_1, beta_2, epsilon = 0.01, 0.1, 0.9, 0.999, 1e-8

    def f(theta):
        return 0.5 * theta @ A @ theta - b @ theta

    def run_torch(optimiser_class):
        theta = theta_0.clone().requires_grad_(True)
        optimiser = optimiser_class([theta], lr=gamma, betas=(beta_1, beta_2), eps=epsilon, weight_decay=lam)
        for _ in range(20):
            optimiser.zero_grad()
            f(theta).backward()
            optimiser.step()
        return theta.detach()

    def run_by_hand(coupled):
        theta, m, v = theta_0.clone(), torch.zeros_like(theta_0), torch.zeros_like(theta_0)
        for t in range(1, 21):
            if coupled:
                # g_t = ∇f(θ_{t-1}) + λθ_{t-1}, from the note's LaTeX
                g_t = evaluate("l1-l2-regularization/adam-l2", f=f, **{"theta_t-1": theta, "lambda": lam}).to(theta)
            else:
                g_t = A @ theta - b                                      # ∇f(θ_{t-1})
            m = beta_1 * m + (1 - beta_1) * g_t
            v = beta_2 * v + (1 - beta_2) * g_t ** 2
            m_hat, v_hat = m / (1 - beta_1 ** t), v / (1 - beta_2 ** t)
            if coupled:
                theta = theta - gamma * m_hat / (v_hat.sqrt() + epsilon)
            else:
                # θ_t = θ_{t-1} − γ (m̂_t/(√v̂_t + ε) + λ θ_{t-1}), evaluated from the note
                theta = evaluate("l1-l2-regularization/adamw", **{"theta_t-1": theta, "gamma": gamma, "mhat_t": m_hat,
                                                                   "vhat_t": v_hat, "epsilon": epsilon, "lambda": lam}).to(theta)
        return theta

    adam_l2, adamw = run_torch(torch.optim.Adam), run_torch(torch.optim.AdamW)
    close(run_by_hand(coupled=True), adam_l2, "Adam on ∇f + λθ vs torch.optim.Adam(weight_decay)")
    close(run_by_hand(coupled=False), adamw, "the note's AdamW update vs torch.optim.AdamW")
    differs(adam_l2, adamw, "Adam(weight_decay=λ) vs AdamW(weight_decay=λ)")


if __name__ == "__main__":
    run_checks(__name__)
