"""Checks for notes/kingma2014adam.md: Adam's moments, bias corrections and update (Algorithm 1).

The reference is torch.optim.Adam: ten steps of the hand-written algorithm on a random quadratic
must land on the same parameters and the same optimizer state.
"""
import torch

from harness import check, close, device, differs, evaluate, figure, holds, run_checks, seed

alpha, beta_1, beta_2, epsilon = 1e-3, 0.9, 0.999, 1e-8


def quadratic_problem():
    """A random convex quadratic f(θ) = ½ θᵀAθ − bᵀθ in 8 dimensions; returns (A, b, θ_0)."""
    g = seed(0)
    M = torch.randn(8, 8, generator=g, dtype=torch.float64)
    A = M @ M.T + torch.eye(8, dtype=torch.float64)
    b = torch.randn(8, generator=g, dtype=torch.float64)
    theta_0 = torch.randn(8, generator=g, dtype=torch.float64)
    return A.to(device()), b.to(device()), theta_0.to(device())


@check("kingma2014adam/gradient", tex=r"g_t = \nabla_\theta f_t(\theta_{t-1})", evaluates=True)
@check("kingma2014adam/first-moment", tex=r"m_t = \beta_1 m_{t-1} + (1 - \beta_1)\, g_t", evaluates=True)
@check("kingma2014adam/second-moment", tex=r"v_t = \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2", evaluates=True)
@check("kingma2014adam/bias-correction-m", tex=r"\hat m_t = \frac{m_t}{1 - \beta_1^t}")
@check("kingma2014adam/bias-correction-v", tex=r"\hat v_t = \frac{v_t}{1 - \beta_2^t}")
@check("kingma2014adam/update", tex=r"\theta_t = \theta_{t-1} - \alpha \, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}", evaluates=True)
def check_algorithm_1_matches_torch_adam():
    """θ: (8,) on a random quadratic; ten steps of Algorithm 1, every line evaluated from the note's LaTeX,
    against torch.optim.Adam's parameters and its state (exp_avg = m_t, exp_avg_sq = v_t)."""
    A, b, theta_0 = quadratic_problem()
    theta = theta_0.clone()
    m = torch.zeros_like(theta)
    v = torch.zeros_like(theta)
    reference = theta_0.clone().requires_grad_(True)
    adam = torch.optim.Adam([reference], lr=alpha, betas=(beta_1, beta_2), eps=epsilon)
    def f_t(theta):
        """f(θ) = ½ θᵀAθ − bᵀθ, the same objective every step."""
        return 0.5 * theta @ A @ theta - b @ theta
    for t in range(1, 11):
        # g_t = ∇_θ f_t(θ_{t-1}), by autograd through the evaluator
        g = evaluate("kingma2014adam/gradient", f_t=f_t, **{"theta_t-1": theta}).to(theta)
        # m_t = β1 m_{t-1} + (1 − β1) g_t
        m = evaluate("kingma2014adam/first-moment", beta_1=beta_1, **{"m_t-1": m}, g_t=g).to(theta)
        # v_t = β2 v_{t-1} + (1 − β2) g_t²
        v = evaluate("kingma2014adam/second-moment", beta_2=beta_2, **{"v_t-1": v}, g_t=g).to(theta)
        # m̂_t = m_t / (1 − β1^t),  v̂_t = v_t / (1 − β2^t)
        m_hat = evaluate("kingma2014adam/bias-correction-m", m_t=m, beta_1=beta_1, t=t).to(theta)
        v_hat = evaluate("kingma2014adam/bias-correction-v", v_t=v, beta_2=beta_2, t=t).to(theta)
        # θ_t = θ_{t-1} − α m̂_t / (√v̂_t + ε)
        theta = evaluate("kingma2014adam/update", **{"theta_t-1": theta, "alpha": alpha, "mhat_t": m_hat,
                                                      "vhat_t": v_hat, "epsilon": epsilon}).to(theta)
        adam.zero_grad()
        (0.5 * reference @ A @ reference - b @ reference).backward()
        close(g, reference.grad, f"g_{t} against the .grad torch.optim.Adam steps with")
        adam.step()
    state = adam.state[reference]
    close(state["exp_avg"], m, "m_t (torch's exp_avg)")
    close(state["exp_avg_sq"], v, "v_t (torch's exp_avg_sq)")
    close(reference.detach(), theta, "θ_10 after ten steps")


@check("kingma2014adam/efficient-update",
       tex=r"\theta_t = \theta_{t-1} - \alpha \frac{\sqrt{1 - \beta_2^t}}{1 - \beta_1^t} \cdot \frac{m_t}{\sqrt{v_t} + \hat\epsilon}",
       evaluates=True)
def check_efficient_order_equals_the_update():
    """With ε̂ = ε √(1 − β2^t) the reordered update is exactly Algorithm 1's."""
    g = seed(1)
    m, v = torch.randn(16, generator=g, dtype=torch.float64), torch.rand(16, generator=g, dtype=torch.float64)
    theta, t = torch.randn(16, generator=g, dtype=torch.float64), 7
    algorithm_1 = theta - alpha * (m / (1 - beta_1 ** t)) / ((v / (1 - beta_2 ** t)).sqrt() + epsilon)
    reordered = evaluate("kingma2014adam/efficient-update", **{"theta_t-1": theta, "alpha": alpha, "beta_1": beta_1,
                                                               "beta_2": beta_2, "t": t, "m_t": m, "v_t": v,
                                                               "epsilonhat": epsilon * (1 - beta_2 ** t) ** 0.5})
    close(reordered, algorithm_1, "reordered update")


@check("kingma2014adam/bias-correction-m", tex=r"\hat m_t = \frac{m_t}{1 - \beta_1^t}", evaluates=True)
@check("kingma2014adam/bias-correction-v", tex=r"\hat v_t = \frac{v_t}{1 - \beta_2^t}", evaluates=True)
def check_bias_correction_removes_the_zero_start():
    """With a constant gradient g_t = 1 the raw averages start near 0; the corrected ones are exactly 1."""
    t = torch.arange(1, 61, dtype=torch.float64)
    m = 1 - beta_1 ** t                    # m_t for g = 1, from m_0 = 0
    v = 1 - beta_2 ** t                    # v_t for g² = 1, from v_0 = 0
    m_hat = evaluate("kingma2014adam/bias-correction-m", m_t=m, beta_1=beta_1, t=t)
    v_hat = evaluate("kingma2014adam/bias-correction-v", v_t=v, beta_2=beta_2, t=t)
    close(m_hat, torch.ones_like(t), "m̂_t for a constant gradient")
    close(v_hat, torch.ones_like(t), "v̂_t for a constant gradient")
    figure("bias-correction", [
        {"type": "scatter", "name": "m_t (β1 = 0.9)", "x": t, "y": m},
        {"type": "scatter", "name": "v_t (β2 = 0.999)", "x": t, "y": v},
        {"type": "scatter", "name": "m̂_t and v̂_t (corrected)", "x": t, "y": m_hat, "line": {"dash": "dash"}},
    ], {"xaxis": {"title": {"text": "step t"}}, "yaxis": {"title": {"text": "estimate of E[g] = E[g²] = 1"}},
        "height": 320, "margin": {"l": 60, "r": 10, "t": 10, "b": 50}})


@check("kingma2014adam/second-moment-unrolled",
       tex=r"v_t = (1 - \beta_2) \sum_{i=1}^{t} \beta_2^{\,t-i}\, g_i^2", evaluates=True)
def check_unrolled_second_moment():
    g = seed(2)
    gradients = torch.randn(20, 5, generator=g, dtype=torch.float64)
    v = torch.zeros(5, dtype=torch.float64)
    for g_t in gradients:
        v = beta_2 * v + (1 - beta_2) * g_t ** 2
    # v_t = (1 − β2) Σ_{i=1}^{t} β2^{t−i} g_i², with g: (t, 5) indexed from 1 by the evaluator's g_i
    unrolled = evaluate("kingma2014adam/second-moment-unrolled", beta_2=beta_2, t=len(gradients), g=gradients)
    close(unrolled, v, "unrolled v_t vs the recursion run 20 times")


@check("kingma2014adam/misstatement-squared-loss",
       tex=r"\frac{\partial (L^2)}{\partial \theta} = 2 L \, \frac{\partial L}{\partial \theta}", evaluates=True)
def check_squared_loss_gradient_is_not_the_second_moment():
    """θ: (6,), L = 3 Σ sin θ. Both sides of the note's identity, evaluated from its LaTeX by autograd through L's
    graph, agree, and the right side equals the closed form 2L · 3 cos θ; it is not the squared gradient Adam averages."""
    g = seed(3)
    theta = torch.randn(6, generator=g, dtype=torch.float64, requires_grad=True)
    L = (theta.sin() * 3).sum()
    # ∂(L²)/∂θ = 2 L ∂L/∂θ
    holds("kingma2014adam/misstatement-squared-loss", L=L, theta=theta)
    dL2 = evaluate("kingma2014adam/misstatement-squared-loss", L=L, theta=theta)
    close(dL2, 2 * L.detach() * 3 * theta.detach().cos(), "2L ∂L/∂θ against the closed form 2L · 3 cos θ")
    differs(dL2, (3 * theta.detach().cos()) ** 2, "∂(L²)/∂θ vs the squared gradient (∂L/∂θ)²")


if __name__ == "__main__":
    run_checks(__name__)
