"""Checks for notes/label-smoothing.md: softmax and cross-entropy, the logit gradient p − q, the smoothed
target q' = (1 − ε) δ + ε/K, its split into (1 − ε) H(q, p) + ε H(u, p), the KL form of H(u, p), the finite
optimal logit gap, the (K − 1) variant and the mixed-up gap formula.

References: F.softmax, F.cross_entropy (with label_smoothing=ε and with probability targets), F.kl_div,
autograd, and L-BFGS minimisation of torch's smoothed loss over the logits.
"""
import math

import torch
import torch.nn.functional as F

from harness import check, close, device, differs, evaluate, figure, run_checks, seed

f64 = torch.float64


def randn(g, *shape):
    return torch.randn(*shape, generator=g, dtype=f64).to(device())


def minimise_logits(loss_of, K):
    """Minimise loss_of(z) over logits z: (K,) with L-BFGS from zero; returns the optimal z."""
    z = torch.zeros(K, dtype=f64, device=device(), requires_grad=True)
    optimiser = torch.optim.LBFGS([z], lr=1, max_iter=500, tolerance_grad=1e-13, tolerance_change=1e-15,
                                  history_size=20, line_search_fn="strong_wolfe")

    def closure():
        optimiser.zero_grad()
        loss = loss_of(z)
        loss.backward()
        return loss

    optimiser.step(closure)
    return z.detach()


def smoothed_gap_by_minimisation(K, eps, y=0):
    """z_y − z_k (k ≠ y) at the minimum of torch's F.cross_entropy(z, y, label_smoothing=eps)."""
    target = torch.tensor([y], device=device())
    z = minimise_logits(lambda z: F.cross_entropy(z[None], target, label_smoothing=eps), K)
    others = torch.cat([z[:y], z[y + 1:]])
    return z[y] - others                                             # (K − 1,) all equal at the optimum


@check("label-smoothing/softmax", tex=r"p(k) = \frac{\exp(z_k)}{\sum_{j=1}^{K} \exp(z_j)}", evaluates=True)
@check("label-smoothing/cross-entropy", tex=r"H(q, p) = -\sum_{k=1}^{K} q(k) \log p(k)", evaluates=True)
@check("label-smoothing/gradient", tex=r"\frac{\partial H(q, p)}{\partial z_k} = p(k) - q(k)", evaluates=True)
def check_softmax_cross_entropy_and_gradient():
    """z: (B=6, K=5). p against F.softmax; H(δ_y, p) = −log p(y) against F.cross_entropy; H(q, p) for a soft
    target q against F.cross_entropy with probability targets; ∂H/∂z = p − q against autograd, for both."""
    g = seed(0)
    B, K = 6, 5
    z = 3 * randn(g, B, K)
    y = torch.randint(0, K, (B,), generator=g).to(device())
    # p(k) = exp(z_k) / Σ_j exp(z_j), evaluated for each class k (counted from 1) and each sample's logits z
    p = torch.stack([torch.stack([evaluate("label-smoothing/softmax", z=z_b, K=K, k=k).reshape(()) for k in range(1, K + 1)])
                     for z_b in z]).to(z)
    close(p, F.softmax(z, -1), "softmax vs F.softmax")
    q_onehot = F.one_hot(y, K).to(f64)
    q_soft = torch.softmax(randn(g, B, K), -1)
    for q, reference_target, name in [(q_onehot, y, "one-hot"), (q_soft, q_soft, "soft")]:
        logits = z.clone().requires_grad_(True)
        reference = F.cross_entropy(logits, reference_target, reduction="none")
        (grad,) = torch.autograd.grad(reference.sum(), logits)
        for b in range(B):
            # q(k) and p(k) as the functions of the class k (from 1) that the note writes
            q_of = lambda k, b=b: q[b, int(k) - 1]                                   # noqa: E731
            p_of = lambda k, b=b: p[b, int(k) - 1]                                   # noqa: E731
            # H(q, p) = −Σ_k q(k) log p(k)
            H = evaluate("label-smoothing/cross-entropy", q=q_of, p=p_of, K=K)
            close(H, reference[b], f"H(q, p) vs F.cross_entropy ({name} target, sample {b})")
            # ∂H/∂z_k = p(k) − q(k)
            dH = torch.stack([evaluate("label-smoothing/gradient", p=p_of, q=q_of, k=k).reshape(()) for k in range(1, K + 1)])
            close(dH, grad[b], f"∂H/∂z vs autograd ({name} target, sample {b})")
    close(-(q_onehot * torch.log(p)).sum(-1), -torch.log(p.gather(1, y[:, None]))[:, 0], "H(δ_y, p) = −log p(y)")


@check("label-smoothing/smoothed-target", tex=r"q'(k) = (1 - \epsilon)\, \delta_{k,y} + \frac{\epsilon}{K}",
       evaluates=True)
def check_smoothed_target_is_torchs_label_smoothing():
    """Torch's smoothed target, read off its gradient (q' = p − ∂loss/∂z), equals the note's q'(k) evaluated
    elementwise; with K = 10, ε = 0.2 the true class gets 0.82 and every other class 0.02."""
    g = seed(1)
    B, K, eps = 4, 10, 0.2
    z = randn(g, B, K).requires_grad_(True)
    y = torch.randint(0, K, (B,), generator=g).to(device())
    loss = F.cross_entropy(z, y, label_smoothing=eps, reduction="sum")
    (grad,) = torch.autograd.grad(loss, z)
    torch_target = torch.softmax(z.detach(), -1) - grad
    delta = F.one_hot(y, K).to(f64)
    q_prime = evaluate("label-smoothing/smoothed-target", **{"epsilon": eps, "delta_k,y": delta, "K": K}).to(z)
    close(q_prime, torch_target, "q'(k) vs torch's label_smoothing target")
    close(q_prime.sum(-1), torch.ones(B, dtype=f64, device=device()), "q' sums to 1")
    close(q_prime[delta.bool()], torch.full((B,), 0.82, dtype=f64, device=device()), "true class, K=10, ε=0.2")
    close(q_prime[~delta.bool()], torch.full((B * (K - 1),), 0.02, dtype=f64, device=device()), "other classes")


@check("label-smoothing/decomposition", tex=r"H(q', p) = (1 - \epsilon) H(q, p) + \epsilon H(u, p)", evaluates=True)
def check_decomposition_into_two_cross_entropies():
    """z: (B=8, K=7). torch's smoothed loss = (1 − ε) · unsmoothed F.cross_entropy + ε · cross-entropy
    against the uniform u(k) = 1/K (F.cross_entropy with a uniform probability target), for several ε."""
    g = seed(2)
    B, K = 8, 7
    z = 2 * randn(g, B, K)
    y = torch.randint(0, K, (B,), generator=g).to(device())
    u = torch.full((B, K), 1.0 / K, dtype=f64, device=device())
    for eps in (0.0, 0.1, 0.3, 0.9):
        smoothed = F.cross_entropy(z, y, label_smoothing=eps)
        # H(q', p) = (1 − ε) H(q, p) + ε H(u, p), with H torch's cross-entropy (probability targets, batch
        # mean) and p standing for the logits it normalises; q is the one-hot target, q' torch's smoothed one
        split = evaluate("label-smoothing/decomposition", H=lambda target, logits: F.cross_entropy(logits, target),
                         q=F.one_hot(y, K).to(f64), u=u, p=z, epsilon=eps)
        close(split, smoothed, f"(1 − ε) H(q, p) + ε H(u, p) vs F.cross_entropy(label_smoothing={eps})")


@check("label-smoothing/kl-form", tex=r"H(u, p) = D_{\mathrm{KL}}(u \,\|\, p) + H(u)", evaluates=True)
def check_uniform_cross_entropy_is_kl_plus_log_k():
    """H(u, p) per sample equals F.kl_div(log p, u) summed over classes plus H(u) = log K."""
    g = seed(3)
    B, K = 5, 9
    z = 2 * randn(g, B, K)
    log_p = F.log_softmax(z, -1)
    u = torch.full((B, K), 1.0 / K, dtype=f64, device=device())
    H_u_p = -(u * log_p).sum(-1)
    kl = F.kl_div(log_p, u, reduction="none").sum(-1)
    H_u = -(u * torch.log(u)).sum(-1)
    close(H_u, torch.full((B,), math.log(K), dtype=f64, device=device()), "H(u) = log K")
    close(H_u_p, kl + H_u, "H(u, p) = KL(u‖p) + H(u)")
    # H(u, p) = D_KL(u ‖ p) + H(u), with D_KL from F.kl_div and H the entropy of torch's Categorical
    split = evaluate("label-smoothing/kl-form", u=u, p=log_p.exp(),
                     D_KL=lambda a, b: F.kl_div(b.log(), a, reduction="none").sum(-1),
                     H=lambda a: torch.distributions.Categorical(probs=a).entropy())
    close(split, F.cross_entropy(z, u, reduction="none"), "D_KL(u‖p) + H(u) vs F.cross_entropy with a uniform target")


@check("label-smoothing/optimal-gap",
       tex=r"z_y - z_k = \log \frac{q'(y)}{q'(k)} = \log\left(1 + \frac{(1 - \epsilon) K}{\epsilon}\right)",
       evaluates=True)
@check("label-smoothing/misstatement-gap",
       tex=r"z_y - z_k = \log\left(\frac{(1 - \epsilon)(K - 1)}{\epsilon} + 1\right)")
def check_optimal_logit_gap_by_minimisation():
    """Minimise torch's smoothed cross-entropy over the K logits with L-BFGS: every gap z_y − z_k equals the
    closed form, the optimal p equals q', and the (K − 1) mix-up formula is off. Publishes the chart."""
    points = {10: [], 1000: []}
    for K in (10, 1000):
        for eps in (0.02, 0.1, 0.3, 0.6):
            gaps = smoothed_gap_by_minimisation(K, eps)
            closed = evaluate("label-smoothing/optimal-gap", K=K, epsilon=eps)
            close(gaps, closed.expand_as(gaps).to(gaps), f"optimal gap, K = {K}, ε = {eps}", rtol=1e-6, atol=1e-6)
            if K == 10:  # for K = 1000 the two differ by only about 1/K
                wrong = evaluate("label-smoothing/misstatement-gap", K=K, epsilon=eps)
                differs(wrong, closed, f"(K − 1) mix-up vs the optimal gap, K = {K}, ε = {eps}")
            points[K].append((eps, float(gaps.mean())))
    # at the optimum p = q': K = 10, ε = 0.1 gives p(y) = 0.91, p(k) = 0.01
    target = torch.tensor([3], device=device())
    z = minimise_logits(lambda z: F.cross_entropy(z[None], target, label_smoothing=0.1), 10)
    expected = torch.full((10,), 0.01, dtype=f64, device=device())
    expected[3] = 0.91
    close(torch.softmax(z, -1), expected, "optimal p = q'", rtol=1e-6, atol=1e-8)
    eps_grid = torch.linspace(0.01, 0.7, 70, dtype=f64)
    traces = []
    for K, colour in ((10, "#1f77b4"), (1000, "#d62728")):
        traces.append({"type": "scatter", "mode": "lines", "name": f"closed form, K = {K}", "x": eps_grid,
                       "y": evaluate("label-smoothing/optimal-gap", K=K, epsilon=eps_grid), "line": {"color": colour}})
        traces.append({"type": "scatter", "mode": "markers", "name": f"L-BFGS on F.cross_entropy, K = {K}",
                       "x": [e for e, _ in points[K]], "y": [v for _, v in points[K]],
                       "marker": {"color": colour, "size": 9}})
    figure("optimal-gap", traces, {"xaxis": {"title": {"text": "ε"}},
                                   "yaxis": {"title": {"text": "optimal z_y − z_k"}},
                                   "height": 320, "margin": {"l": 60, "r": 10, "t": 10, "b": 50}})


@check("label-smoothing/variant",
       tex=r"q''(k) = (1 - \epsilon)\, \delta_{k,y} + \frac{\epsilon}{K - 1} \left(1 - \delta_{k,y}\right), \qquad z_y - z_k = \log \frac{(1 - \epsilon)(K - 1)}{\epsilon}",
       evaluates=True)
def check_k_minus_one_variant():
    """The variant target q'' (explicit code) is torch's q' with ε K/(K − 1); minimising F.cross_entropy
    against q'' as a probability target gives the gap the note's formula evaluates to."""
    K, eps, y = 10, 0.1, 2
    delta = F.one_hot(torch.tensor(y), K).to(f64).to(device())
    # q''(k) = (1 − ε) δ_{k,y} + ε/(K − 1) (1 − δ_{k,y})
    q_variant = (1 - eps) * delta + eps / (K - 1) * (1 - delta)
    z = torch.zeros(1, K, dtype=f64, device=device(), requires_grad=True)
    loss = F.cross_entropy(z, torch.tensor([y], device=device()), label_smoothing=eps * K / (K - 1), reduction="sum")
    (grad,) = torch.autograd.grad(loss, z)
    close(q_variant, torch.softmax(z.detach(), -1)[0] - grad[0], "q'' = q' with ε K/(K − 1)")
    z_opt = minimise_logits(lambda z: F.cross_entropy(z[None], q_variant[None]), K)
    gaps = z_opt[y] - torch.cat([z_opt[:y], z_opt[y + 1:]])
    closed = evaluate("label-smoothing/variant", K=K, epsilon=eps)
    close(gaps, closed.expand_as(gaps).to(gaps), "variant's optimal gap", rtol=1e-6, atol=1e-6)


if __name__ == "__main__":
    run_checks(__name__)
