"""Checks for notes/hinton2015distilling.md: the temperature softmax, the combined distillation loss with
its T² factor, the soft-target gradient and its high-temperature (logit-matching) limit.

References: torch.softmax, F.cross_entropy with probability targets, F.kl_div, and autograd for every
gradient.
"""
import torch
import torch.nn.functional as F

from harness import check, close, device, evaluate, figure, run_checks, seed

f64 = torch.float64


def soft_cross_entropy(z, v, T):
    """z, v: (B, N) student and teacher logits -> C = −Σ_i p_i log q_i per case, summed over the batch."""
    p = torch.softmax(v / T, dim=-1)
    log_q = torch.log_softmax(z / T, dim=-1)
    return -(p * log_q).sum()


@check("hinton2015distilling/softmax-temperature", tex=r"q_i = \frac{\exp(z_i / T)}{\sum_j \exp(z_j / T)}", evaluates=True)
def check_temperature_softmax():
    """z: (4, 10) logits; the written-out softmax at T ∈ {1, 2, 20} against torch.softmax(z / T)."""
    g = seed(0)
    z = (3 * torch.randn(4, 10, generator=g, dtype=f64)).to(device())
    for T in (1.0, 2.0, 20.0):
        # q_i = exp(z_i / T) / Σ_j exp(z_j / T), every i of the 4 cases at once (z_j: row j of zᵀ)
        q = evaluate("hinton2015distilling/softmax-temperature", z_i=z.T, z=z.T, T=T).T
        close(q, torch.softmax(z / T, dim=-1), f"q at T = {T}")
    # a higher temperature gives a softer distribution: the entropy grows with T
    entropy = [float(-(q * q.log()).sum(-1).mean()) for q in (torch.softmax(z / T, -1) for T in (1.0, 2.0, 20.0))]
    close(torch.tensor(entropy).diff().clamp(max=0), torch.zeros(2, dtype=f64), "entropy increases with T")
    close(torch.softmax(z / 1e6, -1), torch.full_like(z, 0.1), "T → ∞ gives the uniform distribution", atol=1e-5)


@check("hinton2015distilling/combined-loss",
       tex=r"\mathcal{L} = \alpha\, T^2\, H\left(p^{(T)}, q^{(T)}\right) + (1 - \alpha)\, H\left(y, q^{(1)}\right)",
       evaluates=True)
def check_combined_loss_against_torch():
    """B = 8 cases, N = 10 classes, T = 4, α = 0.9: the explicit loss against F.cross_entropy with
    probability targets for the soft term and class indices for the hard term; the soft term also
    equals T² (KL(p‖q) + H(p)) with F.kl_div."""
    g = seed(1)
    B, N, T, alpha = 8, 10, 4.0, 0.9
    z = torch.randn(B, N, generator=g, dtype=f64).to(device())        # student logits
    v = (2 * torch.randn(B, N, generator=g, dtype=f64)).to(device())  # teacher logits
    y = torch.randint(0, N, (B,), generator=g).to(device())
    p_T, q_T = torch.softmax(v / T, -1), torch.softmax(z / T, -1)
    q_1 = torch.softmax(z, -1)
    H = lambda p, q: -(p * q.log()).sum(-1).mean()                   # H(p, q) = −Σ_k p_k log q_k, batch mean
    one_hot = F.one_hot(y, N).to(f64)
    # L = α T² H(p^(T), q^(T)) + (1 − α) H(y, q^(1))
    loss = evaluate("hinton2015distilling/combined-loss", alpha=alpha, T=T, H=H, **{"p^(T)": p_T, "q^(T)": q_T},
                    y=one_hot, **{"q^(1)": q_1})
    reference = alpha * T ** 2 * F.cross_entropy(z / T, p_T) + (1 - alpha) * F.cross_entropy(z, y)
    close(loss, reference, "combined loss vs F.cross_entropy (soft and hard targets)")
    kl = F.kl_div(F.log_softmax(z / T, -1), p_T, reduction="batchmean")
    entropy = -(p_T * p_T.log()).sum(-1).mean()
    close(T ** 2 * H(p_T, q_T), T ** 2 * (kl + entropy), "soft term = T² (KL + H(p)) via F.kl_div")


@check("hinton2015distilling/gradient", tex=r"\frac{\partial C}{\partial z_i} = \frac{1}{T}\left(q_i - p_i\right)",
       evaluates=True)
def check_soft_target_gradient():
    """z, v: (6, 10); autograd of C = −Σ p_i log q_i against the note's (q_i − p_i) / T at T = 1, 3, 20."""
    g = seed(2)
    z0 = torch.randn(6, 10, generator=g, dtype=f64)
    v = 2 * torch.randn(6, 10, generator=g, dtype=f64)
    for T in (1.0, 3.0, 20.0):
        z = z0.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(soft_cross_entropy(z, v, T), z)
        q, p = torch.softmax(z0 / T, -1), torch.softmax(v / T, -1)
        expected = evaluate("hinton2015distilling/gradient", q_i=q, p_i=p, T=T)
        close(grad, expected, f"∂C/∂z at T = {T}")


@check("hinton2015distilling/high-temperature",
       tex=r"\frac{\partial C}{\partial z_i} \approx \frac{1}{T}\left(\frac{1 + z_i/T}{N + \sum_j z_j/T} - \frac{1 + v_i/T}{N + \sum_j v_j/T}\right)",
       evaluates=True)
@check("hinton2015distilling/logit-matching", tex=r"\frac{\partial C}{\partial z_i} \approx \frac{1}{N T^2}\left(z_i - v_i\right)",
       evaluates=True)
def check_high_temperature_limit_and_inverse_square_scaling():
    """One case, N = 10 zero-meaned logits. At large T the autograd gradient approaches the first-order
    form and (z_i − v_i)/(N T²) (each compared with autograd, not only with each other); its relative error falls like 1/T, and the gradient norm falls like 1/T²,
    so T² ‖∂C/∂z‖ levels off at ‖z − v‖/N (the reason for the T² factor in the loss)."""
    g = seed(3)
    N = 10
    z0 = torch.randn(1, N, generator=g, dtype=f64)
    v = 2 * torch.randn(1, N, generator=g, dtype=f64)
    z0, v = z0 - z0.mean(), v - v.mean()                              # zero-meaned logits
    temperatures = torch.tensor([1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000], dtype=f64)
    norms, errors = [], []
    for T in temperatures.tolist():
        z = z0.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(soft_cross_entropy(z, v, T), z)
        # ∂C/∂z_i ≈ (1/T) ((1 + z_i/T)/(N + Σ_j z_j/T) − (1 + v_i/T)/(N + Σ_j v_j/T)), from the note's LaTeX
        first_order = evaluate("hinton2015distilling/high-temperature", z_i=z0, v_i=v, z=z0[0], v=v[0], N=N, T=T)
        # ∂C/∂z_i ≈ (z_i − v_i) / (N T²), from the note's LaTeX
        limit = evaluate("hinton2015distilling/logit-matching", z_i=z0, v_i=v, N=N, T=T)
        close(first_order, limit, f"zero-meaned logits: first-order form = logit matching (T = {T:g})")
        norms.append(float(grad.norm()))
        errors.append(float((grad - limit).norm() / limit.norm()))
        if T >= 100:
            close(grad, first_order, f"∂C/∂z ≈ first-order form at T = {T:g} (autograd)", rtol=8 / T, atol=0)
            close(grad, limit, f"∂C/∂z ≈ (z − v)/(N T²) at T = {T:g}", rtol=8 / T, atol=0)
    errors = torch.tensor(errors)
    close((errors[-1] * 1000) / (errors[-3] * 200), 1.0, "relative error ∝ 1/T (T = 200 → 1000)", rtol=0.05)
    norms = torch.tensor(norms)
    slope = (norms[-1].log() - norms[-3].log()) / (temperatures[-1].log() - temperatures[-3].log())
    close(slope, -2.0, "log-log slope of ‖∂C/∂z‖ vs T (1/T² scaling)", atol=0.01)
    plateau = float((z0 - v).norm()) / N
    close(norms[-1] * 1000 ** 2, plateau, "T² ‖∂C/∂z‖ → ‖z − v‖/N", rtol=0.01)
    figure("gradient-scale", [
        {"type": "scatter", "name": "‖∂C/∂z‖ (autograd)", "x": temperatures, "y": norms},
        {"type": "scatter", "name": "T² ‖∂C/∂z‖", "x": temperatures, "y": norms * temperatures ** 2},
        {"type": "scatter", "name": "‖z − v‖ / N (high-T limit)", "x": temperatures,
         "y": torch.full_like(temperatures, plateau), "line": {"dash": "dash"}},
    ], {"xaxis": {"title": {"text": "temperature T"}, "type": "log"},
        "yaxis": {"title": {"text": "gradient norm"}, "type": "log", "exponentformat": "e"},
        "height": 320, "margin": {"l": 70, "r": 10, "t": 10, "b": 50}})


if __name__ == "__main__":
    run_checks(__name__)
