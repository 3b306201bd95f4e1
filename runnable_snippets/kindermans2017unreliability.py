"""Checks for notes/kindermans2017unreliability.md: a constant input shift absorbed by the first layer's
bias leaves the network and its gradients unchanged, changes gradient ⊙ input by m_2 ⊙ ∇f_1, and changes
Integrated Gradients with a zero baseline unless the baseline moves with the shift.

The networks are a small ReLU MLP f_1 and its copy f_2 whose first bias is b_1 − W_1 m_2 (float64).
References: the two networks' outputs and hidden activations, autograd gradients of each network, and
Integrated Gradients computed separately for each network with the same Riemann sum.
"""
import torch

from harness import check, close, device, differs, evaluate, holds, run_checks, seed

d, hidden = 10, 12


def networks(generator, first_bias=None):
    """(f_1, f_2, m_2): f_j (n, d) -> (n,), a 10-12-12-1 ReLU MLP; f_2 has b_2 = b_1 − W_1 m_2, or
    first_bias(b_1, W_1, m_2) when given (the note's formula evaluated)."""
    W_1 = torch.randn(hidden, d, generator=generator, dtype=torch.float64).to(device()) / d ** 0.5
    b_1 = torch.randn(hidden, generator=generator, dtype=torch.float64).to(device())
    W_2 = torch.randn(hidden, hidden, generator=generator, dtype=torch.float64).to(device()) / hidden ** 0.5
    w_3 = torch.randn(hidden, generator=generator, dtype=torch.float64).to(device())
    m_2 = -torch.ones(d, dtype=torch.float64, device=device())              # e.g. pixels [0, 1] -> [-1, 0]
    # b_2 = b_1 − W_1 m_2
    b_2 = b_1 - W_1 @ m_2 if first_bias is None else first_bias(b_1, W_1, m_2)

    def make(b):
        def f(x, return_hidden=False):
            h_1 = torch.relu(x @ W_1.T + b)
            h_2 = torch.relu(h_1 @ W_2.T)
            return (h_2 @ w_3, h_1) if return_hidden else h_2 @ w_3
        return f
    return make(b_1), make(b_2), m_2


def gradient(f, x):
    x = x.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(f(x).sum(), x)
    return g


def integrated_gradients(f, x, x_bar, m=256):
    """(x − x̄) ⊙ (1/m) Σ_k ∇f(x̄ + (k − ½)/m (x − x̄)) for a batch x (n, d) and baseline x̄ (d,) or (n, d)."""
    alphas = (torch.arange(m, dtype=torch.float64, device=x.device) + 0.5) / m
    path = x_bar + alphas[:, None, None] * (x - x_bar)                       # (m, n, d)
    grads = gradient(lambda z: f(z.reshape(-1, d)).reshape(m, -1), path)
    return (x - x_bar) * grads.mean(0)


def inputs(generator):
    """x_1 (32, d) in [0, 1] (like MNIST pixels)."""
    return torch.rand(32, d, generator=generator, dtype=torch.float64).to(device())


@check("kindermans2017unreliability/shift", tex=r"x_2 = x_1 + m_2", evaluates=True)
@check("kindermans2017unreliability/bias-compensation", tex=r"b_2 = b_1 - W_1 m_2", evaluates=True)
def check_bias_compensation_preserves_the_model():
    """With x_2 = x_1 + m_2 and b_2 = b_1 − W_1 m_2, both evaluated from the note's LaTeX, the first-layer
    activations, and therefore the outputs, of f_2 on x_2 equal those of the unshifted network f_1 on x_1
    (the reference); without the compensation f_1(x_2) differs."""
    g = seed(0)
    # b_2 = b_1 − W_1 m_2 (the note's LaTeX; W_1 m_2 a matrix-vector product)
    f_1, f_2, m_2 = networks(g, lambda b_1, W_1, m_2: evaluate("kindermans2017unreliability/bias-compensation",
                                                               b_1=b_1, W_1=W_1, m_2=m_2))
    x_1 = inputs(g)
    # x_2 = x_1 + m_2
    x_2 = evaluate("kindermans2017unreliability/shift", x_1=x_1, m_2=m_2)
    out_1, h_1 = f_1(x_1, return_hidden=True)
    out_2, h_2 = f_2(x_2, return_hidden=True)
    close(h_2, h_1, "hidden activations of f_2(x_2) and f_1(x_1)")
    close(out_2, out_1, "f_2(x_2) = f_1(x_1)")
    differs(f_1(x_2), out_1, "an uncompensated network sees the shift")


@check("kindermans2017unreliability/gradient-invariance", tex=r"\nabla f_2(x_2) = \nabla f_1(x_1)", evaluates=True)
@check("kindermans2017unreliability/gradient-times-input",
       tex=r"x_2 \odot \nabla f_2(x_2) = x_1 \odot \nabla f_1(x_1) + m_2 \odot \nabla f_1(x_1)", evaluates=True)
def check_gradient_is_invariant_gradient_times_input_is_not():
    """Autograd gradients of the two networks agree exactly; gradient ⊙ input differs by m_2 ⊙ ∇f_1(x_1). For 4
    inputs x (d,), both sides of each equation are evaluated from the note's LaTeX (∇f(x): autograd of the network
    passed as f at x) and compared; ∇f_1(x_1) also against the batched gradients of network 1 and central finite
    differences."""
    g = seed(1)
    f_1, f_2, m_2 = networks(g)
    x_1 = inputs(g)
    x_2 = x_1 + m_2
    grad_1, grad_2 = gradient(f_1, x_1), gradient(f_2, x_2)
    close(grad_2, grad_1, "∇f_2(x_2) = ∇f_1(x_1)")
    eye = torch.eye(d, dtype=torch.float64, device=device())
    for k in range(4):
        networks_at_k = {"f_1": f_1, "f_2": f_2, "x_1": x_1[k], "x_2": x_2[k], "m_2": m_2}
        # ∇f_2(x_2) = ∇f_1(x_1)
        holds("kindermans2017unreliability/gradient-invariance", **networks_at_k)
        # x_2 ⊙ ∇f_2(x_2) = x_1 ⊙ ∇f_1(x_1) + m_2 ⊙ ∇f_1(x_1)
        holds("kindermans2017unreliability/gradient-times-input", **networks_at_k)
        grad_note = evaluate("kindermans2017unreliability/gradient-invariance", **networks_at_k)
        close(grad_note, grad_1[k], f"the note's ∇f_1(x_1) against the batched gradient, input {k}")
        finite = torch.stack([(f_1(x_1[k] + 1e-6 * e) - f_1(x_1[k] - 1e-6 * e)) / 2e-6 for e in eye])
        close(grad_note, finite, f"the note's ∇f_1(x_1) against central finite differences, input {k}", atol=1e-7)
        times_input = evaluate("kindermans2017unreliability/gradient-times-input", **networks_at_k)
        close(times_input, x_2[k] * grad_1[k], f"the note's right side against x_2 ⊙ ∇f_1(x_1), input {k}")
    # x_2 ⊙ ∇f_2(x_2) = x_1 ⊙ ∇f_1(x_1) + m_2 ⊙ ∇f_1(x_1)
    close(x_2 * grad_2, x_1 * grad_1 + m_2 * grad_1, "gradient ⊙ input of network 2")
    differs(x_2 * grad_2, x_1 * grad_1, "gradient ⊙ input is not input invariant")


@check("kindermans2017unreliability/ig-baseline", tex=r"\mathrm{IG}_2(x_2, \bar{x}) = \mathrm{IG}_1(x_1, \bar{x} - m_2)",
       evaluates=True)
def check_integrated_gradients_depend_on_the_baseline():
    """IG_2(x_2; x̄) = IG_1(x_1; x̄ − m_2) for x̄ = 0 and a random x̄; with a zero baseline for both networks
    the attributions differ; with the baseline shifted along (x̄_2 = x̄_1 + m_2) they agree. Completeness
    holds in each case, so the totals agree while the per-feature maps do not."""
    g = seed(2)
    f_1, f_2, m_2 = networks(g)
    x_1 = inputs(g)
    x_2 = x_1 + m_2
    zero = torch.zeros(d, dtype=torch.float64, device=device())
    for x_bar in (zero, torch.rand(d, generator=g, dtype=torch.float64).to(device())):
        # IG_1(x_1, x̄ − m_2), the note's right side (IG_1 the Riemann-sum IG of network 1), against IG of network 2
        ig_note = evaluate("kindermans2017unreliability/ig-baseline", x_1=x_1, xbar=x_bar, m_2=m_2,
                           IG_1=lambda x, baseline: integrated_gradients(f_1, x, baseline))
        close(ig_note, integrated_gradients(f_2, x_2, x_bar), "IG_1(x_1, x̄ − m_2) against IG_2(x_2, x̄)")
    ig_1_zero, ig_2_zero = integrated_gradients(f_1, x_1, zero), integrated_gradients(f_2, x_2, zero)
    differs(ig_2_zero, ig_1_zero, "IG with a zero baseline for both networks")
    close(integrated_gradients(f_2, x_2, zero + m_2), ig_1_zero, "IG with the baseline shifted along")
    # the ReLU kinks along the path make the 256-step sum accurate to O(1/m), not exact
    close(ig_1_zero.sum(1), f_1(x_1) - f_1(zero[None]), "completeness for network 1", atol=2e-2)


if __name__ == "__main__":
    run_checks(__name__)
