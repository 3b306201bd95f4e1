"""Checks for notes/multi-task-learning.md: the weighted sum of task losses and the gradients it sends to the
shared trunk and the heads, T5's temperature-scaled mixing rates, the soft-sharing penalty identity, and
Kendall et al.'s uncertainty weighting (Gaussian likelihood, optimal σ² = L_i, the profiled loss, the
log-variance form).

References: autograd on each task loss separately, torch.multinomial sampling, torch.distributions.Normal
log-likelihoods, and L-BFGS minimisation over the noise parameters.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

from harness import check, close, device, differs, evaluate, evaluate_with, holds, run_checks, seed

f64 = torch.float64


def randn(g, *shape):
    return torch.randn(*shape, generator=g, dtype=f64).to(device())


def lbfgs(parameters, loss_of):
    optimiser = torch.optim.LBFGS(parameters, lr=1, max_iter=200, tolerance_grad=1e-12, tolerance_change=1e-15,
                                  line_search_fn="strong_wolfe")

    def closure():
        optimiser.zero_grad()
        loss = loss_of()
        loss.backward()
        return loss

    optimiser.step(closure)


@check("multi-task-learning/weighted-sum",
       tex=r"L(\theta_{sh}, \theta_1, \ldots, \theta_T) = \sum_{t=1}^{T} w_t L_t(\theta_{sh}, \theta_t)", evaluates=True)
@check("multi-task-learning/shared-gradient",
       tex=r"\nabla_{\theta_{sh}} L = \sum_{t=1}^{T} w_t \nabla_{\theta_{sh}} L_t, \qquad \nabla_{\theta_t} L = w_t \nabla_{\theta_t} L_t")
def check_weighted_sum_and_its_gradients():
    """Hard sharing: trunk nn.Linear(5, 8) + tanh, three heads (3-class cross-entropy, regression MSE, binary
    BCE) on a batch of 12. The gradient of L = Σ w_t L_t (one backward pass) against Σ w_t ∇L_t from three
    separate backward passes, for the trunk and each head; the other tasks send a head nothing."""
    g = seed(0)
    trunk = nn.Sequential(nn.Linear(5, 8, dtype=f64), nn.Tanh()).to(device())
    heads = nn.ModuleList([nn.Linear(8, 3, dtype=f64), nn.Linear(8, 1, dtype=f64), nn.Linear(8, 1, dtype=f64)]).to(device())
    x = randn(g, 12, 5)
    y_class = torch.randint(0, 3, (12,), generator=g).to(device())
    y_reg, y_bin = randn(g, 12, 1), torch.randint(0, 2, (12, 1), generator=g).to(f64).to(device())
    w = [1.0, 0.3, 2.5]

    def task_losses():
        h = trunk(x)
        return [F.cross_entropy(heads[0](h), y_class), F.mse_loss(heads[1](h), y_reg),
                F.binary_cross_entropy_with_logits(heads[2](h), y_bin)]

    shared = list(trunk.parameters())
    everything = shared + list(heads.parameters())
    # L = Σ_t w_t L_t
    L = sum(w_t * L_t for w_t, L_t in zip(w, task_losses()))
    grad_L = torch.autograd.grad(L, everything)
    per_task = [torch.autograd.grad(task_losses()[t], everything, allow_unused=True) for t in range(3)]
    per_task = [[torch.zeros_like(p) if gr is None else gr for gr, p in zip(grads, everything)] for grads in per_task]
    for i, p in enumerate(shared):
        # ∇_{θ_sh} L = Σ_t w_t ∇_{θ_sh} L_t
        close(grad_L[i], sum(w[t] * per_task[t][i] for t in range(3)), f"trunk parameter {i}")
    offset = len(shared)
    for t, head in enumerate(heads):
        for j, _ in enumerate(head.parameters()):
            i = offset + 2 * t + j
            # ∇_{θ_t} L = w_t ∇_{θ_t} L_t
            close(grad_L[i], w[t] * per_task[t][i], f"head {t} parameter {j}")
            others = sum(per_task[s][i].abs().sum() for s in range(3) if s != t)
            close(others, 0.0, f"other tasks' gradient on head {t}")
    differs(grad_L[0], sum(per_task[t][0] for t in range(3)), "weights matter: weighted vs unweighted trunk gradient")

    # L(θ_sh, θ_1, …, θ_T) = Σ_t w_t L_t(θ_sh, θ_t), evaluated from the note with L_t the task losses as functions
    # of flat parameter vectors; its autograd gradients against the three separate backward passes above
    theta_sh = torch.cat([p.detach().flatten() for p in trunk.parameters()]).requires_grad_(True)
    theta = [torch.cat([p.detach().flatten() for p in head.parameters()]).requires_grad_(True) for head in heads]
    losses = (lambda out: F.cross_entropy(out, y_class), lambda out: F.mse_loss(out, y_reg),
              lambda out: F.binary_cross_entropy_with_logits(out, y_bin))

    def task_loss(t):
        def L_t(theta_sh, theta_t):
            h = torch.func.functional_call(trunk, unflatten(theta_sh, trunk), (x,))
            return losses[t](torch.func.functional_call(heads[t], unflatten(theta_t, heads[t]), (h,)))
        return L_t

    L_note = evaluate_with("multi-task-learning/weighted-sum", {"T": 3, "w": torch.tensor(w, dtype=f64, device=device()),
                                                                 "L": [task_loss(t) for t in range(3)],
                                                                 "theta_sh": theta_sh, "theta": theta})
    grads = torch.autograd.grad(L_note, [theta_sh] + theta)
    close(grads[0], torch.cat([sum(w[t] * per_task[t][i] for t in range(3)).flatten() for i in range(offset)]),
          "∇_{θ_sh} of the note's L against Σ_t w_t ∇L_t from separate backward passes")
    for t in range(3):
        close(grads[1 + t], torch.cat([w[t] * per_task[t][offset + 2 * t + j].flatten() for j in range(2)]),
              f"∇_{{θ_{t + 1}}} of the note's L against w_t ∇L_t")


def unflatten(vector, module):
    """A flat parameter vector as ``module``'s named parameters (for torch.func.functional_call)."""
    out, k = {}, 0
    for name, p in module.named_parameters():
        out[name] = vector[k:k + p.numel()].view_as(p)
        k += p.numel()
    return out


@check("multi-task-learning/mixing-rate",
       tex=r"r_m = \frac{\min(e_m, K)^{1/T}}{\sum_{n} \min(e_n, K)^{1/T}}", evaluates=True)
def check_temperature_scaled_mixing():
    """Four tasks with e = (10^6, 10^5, 10^4, 10^3) examples, cap K = 2·10^5. T = 1 is examples-proportional
    mixing; the one-step formula equals T5's two steps (normalise, raise to 1/T, renormalise); T → ∞ is
    equal mixing; torch.multinomial draws follow r_m (within 5 standard errors of 4·10^4 draws)."""
    e = torch.tensor([1e6, 1e5, 1e4, 1e3], dtype=f64)
    K = 2e5

    def r(T):
        # r_m = min(e_m, K)^{1/T} / Σ_n min(e_n, K)^{1/T}, every task m at once
        return evaluate("multi-task-learning/mixing-rate", e_m=e, e=e, K=K, T=T)

    proportional = torch.clamp(e, max=K) / torch.clamp(e, max=K).sum()
    close(r(1.0), proportional, "T = 1: examples-proportional mixing")
    for T in (2.0, 8.0):
        two_step = proportional ** (1 / T) / (proportional ** (1 / T)).sum()
        close(r(T), two_step, f"T = {T}: one step vs normalise, power, renormalise")
    close(r(1e6), torch.full((4,), 0.25, dtype=f64), "T → ∞: equal mixing", atol=1e-4, rtol=0)
    g = seed(1)
    n = 40_000
    rates = r(2.0)
    draws = torch.multinomial(rates, n, replacement=True, generator=g)
    frequencies = torch.bincount(draws, minlength=4).to(f64) / n
    close(frequencies, rates, "sampled task frequencies", atol=float(5 * (0.25 / n) ** 0.5), rtol=0)


@check("multi-task-learning/soft-sharing",
       tex=r"\sum_{s < t} \left\| \theta^{(s)} - \theta^{(t)} \right\|^2 = T \sum_{t=1}^{T} \left\| \theta^{(t)} - \bar\theta \right\|^2",
       evaluates=True)
def check_soft_sharing_penalty():
    """T = 4 parameter sets of 10 values: the pairwise sum (explicit loop over pairs) equals T times the spread
    around the mean; its autograd gradient for θ^(t) is 2T(θ^(t) − θ̄)."""
    g = seed(2)
    T = 4
    theta = randn(g, T, 10).requires_grad_(True)
    pairwise = sum(((theta[s] - theta[t]) ** 2).sum() for s in range(T) for t in range(s + 1, T))
    theta_bar = theta.mean(0)
    spread = T * ((theta - theta_bar) ** 2).sum()
    close(pairwise, spread, "Σ_{s<t} ‖θ^(s) − θ^(t)‖² = T Σ_t ‖θ^(t) − θ̄‖²")
    (grad,) = torch.autograd.grad(pairwise, theta)
    close(grad, 2 * T * (theta - theta_bar).detach(), "gradient 2T(θ^(t) − θ̄)")
    # Σ_{s<t} ‖θ^(s) − θ^(t)‖² = T Σ_t ‖θ^(t) − θ̄‖²: both sides evaluated from the note (θ^(t) from the list of sets)
    values = {"theta": list(theta.detach()), "T": T, "thetabar": theta_bar.detach()}
    holds("multi-task-learning/soft-sharing", **values)
    close(evaluate("multi-task-learning/soft-sharing", **values), pairwise.detach(), "the note's T Σ_t ‖θ^(t) − θ̄‖² vs the pair loop")


@check("multi-task-learning/uncertainty-loss",
       tex=r"\mathcal{L}(W, \sigma_1, \sigma_2) = \frac{1}{2\sigma_1^2} L_1 + \frac{1}{2\sigma_2^2} L_2 + \log \sigma_1 + \log \sigma_2",
       evaluates=True)
def check_uncertainty_loss_is_a_gaussian_likelihood():
    """For scalar targets y_i, predictions f_i and noise
    σ_i, the formula with L_i = (y_i − f_i)² equals −Σ_i log N(y_i; f_i, σ_i²) minus the constant log 2π."""
    g = seed(3)
    y, f = randn(g, 2, 50), randn(g, 2, 50)
    sigma = 0.2 + torch.rand(2, 50, generator=g, dtype=f64).to(device()) * 3
    L_1, L_2 = (y[0] - f[0]) ** 2, (y[1] - f[1]) ** 2
    sigma_1, sigma_2 = sigma[0], sigma[1]
    # 𝓛 = L_1/(2σ_1²) + L_2/(2σ_2²) + log σ_1 + log σ_2, for the 50 targets at once
    loss = evaluate_with("multi-task-learning/uncertainty-loss",
                         {"L_1": L_1, "L_2": L_2, "sigma_1": sigma_1, "sigma_2": sigma_2}, elementwise=True)
    nll = -torch.distributions.Normal(f, sigma).log_prob(y).sum(0)
    close(loss, nll - math.log(2 * math.pi), "𝓛 vs −log N(y_1) − log N(y_2) − log 2π")


@check("multi-task-learning/optimal-sigma", tex=r"\sigma_i^2 = L_i", evaluates=True)
@check("multi-task-learning/profiled-loss",
       tex=r"\min_{\sigma_1, \sigma_2} \mathcal{L} = \frac{\log L_1}{2} + \frac{\log L_2}{2} + 1", evaluates=True)
@check("multi-task-learning/log-variance",
       tex=r"\mathcal{L} = \frac{L_1}{2 \exp(s_1)} + \frac{L_2}{2 \exp(s_2)} + \frac{s_1 + s_2}{2}", evaluates=True)
def check_optimal_noise_by_minimisation():
    """For fixed task losses (L_1, L_2), minimise the log-variance form (evaluated from the note) over
    s_i = log σ_i² with L-BFGS: exp(s_i) equals L_i, the minimum equals the profiled loss, and at σ_i² = L_i
    the log-variance form equals the Gaussian form. The classification term L/σ² + log σ has σ² = 2L."""
    for L_1, L_2 in ((0.3, 4.0), (2.5, 0.01), (1.0, 1.0)):
        s = torch.zeros(2, dtype=f64, requires_grad=True)

        def objective():
            # 𝓛 = L_1/(2 exp(s_1)) + L_2/(2 exp(s_2)) + (s_1 + s_2)/2, with autograd through torch ops
            return L_1 / (2 * torch.exp(s[0])) + L_2 / (2 * torch.exp(s[1])) + (s[0] + s[1]) / 2

        lbfgs([s], objective)
        sigma2 = torch.exp(s.detach())
        expected = torch.stack([evaluate("multi-task-learning/optimal-sigma", L_i=L) for L in (L_1, L_2)])
        close(sigma2, expected, f"σ_i² at the optimum, L = ({L_1}, {L_2})", rtol=1e-6, atol=1e-9)
        minimum = evaluate("multi-task-learning/log-variance", L_1=L_1, L_2=L_2, s_1=s[0].detach(), s_2=s[1].detach())
        close(minimum, evaluate("multi-task-learning/profiled-loss", L_1=L_1, L_2=L_2), "minimum = profiled loss",
              rtol=1e-9, atol=1e-9)
        sigma_1, sigma_2 = math.sqrt(L_1), math.sqrt(L_2)
        gaussian_form = L_1 / (2 * sigma_1 ** 2) + L_2 / (2 * sigma_2 ** 2) + math.log(sigma_1) + math.log(sigma_2)
        close(minimum, gaussian_form, "log-variance form = Gaussian form at σ_i² = L_i", rtol=1e-9, atol=1e-9)
    L = 0.7
    log_sigma = torch.zeros(1, dtype=f64, requires_grad=True)
    lbfgs([log_sigma], lambda: L / torch.exp(2 * log_sigma[0]) + log_sigma[0])
    close(torch.exp(2 * log_sigma.detach())[0], 2 * L, "classification-style term: σ² = 2L", rtol=1e-6, atol=1e-9)


if __name__ == "__main__":
    run_checks(__name__)
