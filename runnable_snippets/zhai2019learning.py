"""Checks for notes/zhai2019learning.md: the normalised proxy softmax, the multi-task objective over a shared
embedding with task-specific proxies, and the Hamming distance of binarised codes.

References: F.cross_entropy on F.normalize-d cosine logits, autograd (shared-parameter gradient = sum of
task gradients; a task's proxies get no gradient from other tasks), and XOR + popcount on bit-packed codes.
"""
import torch
import torch.nn.functional as F

from harness import check, close, device, differs, evaluate, run_checks, seed

f64 = torch.float64
D = 16


def randn(g, *shape):
    return torch.randn(*shape, generator=g, dtype=f64).to(device())


def proxy_loss(x, y, P, sigma):
    """x: (B, D) embeddings, y: (B,) labels, P: (|Z|, D) proxies -> (B,) losses."""
    x_hat = x / x.norm(dim=-1, keepdim=True)
    p_hat = P / P.norm(dim=-1, keepdim=True)
    logits = x_hat @ p_hat.T / sigma
    # L = −log [exp(x̂ᵀ p̂_y / σ) / Σ_z exp(x̂ᵀ p̂_z / σ)]
    return -(logits.gather(1, y[:, None])[:, 0] - torch.logsumexp(logits, -1))


@check("zhai2019learning/proxy-softmax",
       tex=r"\mathcal{L}(\mathbf{x}, y) = -\log \frac{\exp\left(\hat{\mathbf{x}}^\top \hat{\mathbf{p}}_y / \sigma\right)}{\sum_{z \in Z} \exp\left(\hat{\mathbf{x}}^\top \hat{\mathbf{p}}_z / \sigma\right)}",
       evaluates=True)
def check_proxy_softmax_against_cross_entropy():
    """Against F.cross_entropy on F.normalize(x) F.normalize(P)ᵀ / σ; invariant to rescaling x and the proxies;
    the temperature matters (σ = 1 vs σ = 0.05 give different losses)."""
    g = seed(0)
    x, P = randn(g, 6, D), randn(g, 10, D)
    y = torch.randint(10, (6,), generator=g).to(device())
    sigma = 0.05
    reference = F.cross_entropy(F.normalize(x, dim=-1) @ F.normalize(P, dim=-1).T / sigma, y, reduction="none")
    x_hat, p_hat = x / x.norm(dim=-1, keepdim=True), P / P.norm(dim=-1, keepdim=True)
    Z = list(range(1, len(P) + 1))                                       # classes, numbered from 1 as the sum's index
    # L(x, y) = −log [exp(x̂ᵀ p̂_y / σ) / Σ_{z∈Z} exp(x̂ᵀ p̂_z / σ)], evaluated from the note per example
    L = torch.stack([evaluate("zhai2019learning/proxy-softmax", xhat=x_hat[b], phat=p_hat, y=int(y[b]) + 1, Z=Z, sigma=sigma)
                     for b in range(len(x))])
    close(L, reference, "the note's normalised proxy softmax against F.cross_entropy")
    close(proxy_loss(x, y, P, sigma), reference, "the vectorised proxy_loss used below, against F.cross_entropy")
    scales = torch.rand(6, 1, generator=g, dtype=f64).to(device()) * 10 + 0.1
    close(proxy_loss(scales * x, y, 3.0 * P, sigma), proxy_loss(x, y, P, sigma), "only directions matter")
    differs(proxy_loss(x, y, P, 1.0), proxy_loss(x, y, P, sigma), "the temperature changes the loss")


@check("zhai2019learning/multi-task",
       tex=r"\mathcal{L}_{\mathrm{total}} = \sum_{t=1}^{T} \frac{1}{|B_t|} \sum_{(I, y) \in B_t} \mathcal{L}_t\left(f_\theta(I), y\right)",
       evaluates=True)
def check_multi_task_gradients():
    """Two tasks with batches of 5 and 7 'images' (feature vectors), a shared linear embedding f_θ and
    task-specific proxy banks: the total equals Σ_t F.cross_entropy (mean over the task batch); ∂L_total/∂θ = Σ_t ∂L_t/∂θ; task 1's
    proxies get no gradient from task 2's loss."""
    g = seed(1)
    theta = randn(g, 12, D).requires_grad_(True)
    proxies = [randn(g, 4, D).requires_grad_(True), randn(g, 6, D).requires_grad_(True)]
    batches = [(randn(g, 5, 12), torch.randint(4, (5,), generator=g).to(device())),
               (randn(g, 7, 12), torch.randint(6, (7,), generator=g).to(device()))]
    sigma = 0.1
    task_losses = [proxy_loss(I @ theta, y, P, sigma).mean() for (I, y), P in zip(batches, proxies)]
    # L_total = Σ_t 1/|B_t| Σ_{(I, y) ∈ B_t} L_t(f_θ(I), y)
    total = sum(task_losses)
    reference = sum(F.cross_entropy(F.normalize(I @ theta, dim=-1) @ F.normalize(P, dim=-1).T / sigma, y)
                    for (I, y), P in zip(batches, proxies))        # reduction="mean" is the 1/|B_t| average
    close(total, reference, "total against Σ_t F.cross_entropy(mean over B_t)")
    # L_total = Σ_t 1/|B_t| Σ_{(I, y) ∈ B_t} L_t(f_θ(I), y), evaluated from the note: B_t the task's (image, label)
    # pairs, L_t the task's proxy loss of one embedding
    total_note = evaluate("zhai2019learning/multi-task", T=2, f_theta=lambda I: I @ theta,
                          B=[list(zip(I, y)) for I, y in batches],
                          L=[lambda f, y, P=P: proxy_loss(f[None], y.long()[None], P, sigma)[0] for P in proxies])
    close(total_note, reference, "the note's L_total against Σ_t F.cross_entropy(mean over B_t)")
    close(torch.autograd.grad(total_note, theta, retain_graph=True)[0],
          torch.autograd.grad(reference, theta, retain_graph=True)[0], "∂L_total/∂θ of the note's formula against F.cross_entropy's")
    (grad_total,) = torch.autograd.grad(total, theta, retain_graph=True)
    grads = [torch.autograd.grad(loss, theta, retain_graph=True)[0] for loss in task_losses]
    close(grad_total, grads[0] + grads[1], "shared-parameter gradient = sum of task gradients")
    (grad_P1_from_task2,) = torch.autograd.grad(task_losses[1], proxies[0], allow_unused=True, materialize_grads=True)
    close(grad_P1_from_task2, torch.zeros_like(proxies[0]), "task 1's proxies get nothing from task 2")
    differs(grads[1], torch.zeros_like(grads[1]), "task 2 does train the shared embedding")


def pack(code):
    """±1 code -> Python int with bit i set where code_i = +1."""
    return sum(1 << i for i, value in enumerate(code.tolist()) if value > 0)


@check("zhai2019learning/hamming", tex=r"d_H(\mathbf{b}, \mathbf{b}') = \frac{D - \mathbf{b}^\top \mathbf{b}'}{2}", evaluates=True)
def check_hamming_against_xor_popcount():
    """Sign codes of 8 embeddings (D = 16): (D − bᵀb')/2 equals the count of differing bits and XOR + popcount
    of the packed codes, for all pairs; rescaling an embedding does not change its code."""
    g = seed(2)
    x = randn(g, 8, D)
    b = torch.sign(x)                                                  # b = sign(x) ∈ {−1, +1}^D
    # d_H(b, b') = (D − bᵀ b') / 2, evaluated from the note with the codes as columns: all pairs at once
    d_H = evaluate("zhai2019learning/hamming", b=b.T, **{"b'": b.T}, D=D)
    close(d_H, (b[:, None, :] != b[None, :, :]).sum(-1).to(f64), "against the number of differing bits")
    packed = [pack(code) for code in b.cpu()]
    popcount = torch.tensor([[bin(p ^ q).count("1") for q in packed] for p in packed], dtype=f64)
    close(d_H, popcount, "against XOR + popcount on packed codes")
    close(torch.sign(5.0 * x), b, "positive rescaling keeps the code")


if __name__ == "__main__":
    run_checks(__name__)
