"""Checks for notes/rajput2023recommender.md (TIGER): residual quantisation into a Semantic ID, the RQ-VAE
loss with its stop-gradients, and the autoregressive factorisation of a Semantic ID's probability.

References: torch.cdist for the nearest codeword, the identity z − ẑ = r_m, exact recovery of planted
codes from multi-scale codebooks, F.mse_loss with detach() as sg[·], closed-form gradients against
autograd, F.cross_entropy under teacher forcing, and the full joint table over all K^m tuples.
"""
import itertools

import torch
import torch.nn.functional as F

from harness import check, close, device, evaluate, evaluate_with, run_checks, seed

m, K, D = 3, 8, 6     # levels, codes per level, latent size
beta = 0.25


def residual_quantise(z, E):
    """z: (B, D), codebooks E: (m, K, D) -> codes c: (B, m) long, residuals [r_0, ..., r_m] each (B, D).

    Every line is the note's own LaTeX, evaluated item by item: r_0, the nearest code c_d and the next
    residual r_{d+1}; the residuals keep the autograd graph of z and E."""
    # r_0 = z  (value evaluated from the note; adding z − sg[z] = 0 attaches z's autograd graph)
    r = evaluate("rajput2023recommender/rq-init", z=z).detach().to(z) + (z - z.detach())
    residuals, codes = [r], []
    for d in range(E.shape[0]):
        # c_d = argmin_k ‖r_d − e^d_k‖  (distances from the detached residual: the code is not differentiated)
        c_d = torch.stack([evaluate_with("rajput2023recommender/rq-code", {"r_d": r_i.detach(), "e^d": E[d].detach()},
                                         index_base=0) for r_i in r]).long()
        codes.append(c_d)
        # r_{d+1} = r_d − e^d_{c_d}
        r = torch.stack([evaluate_with("rajput2023recommender/rq-residual", {"r_d": r_i, "e": list(E), "c": c_i, "d": d},
                                       index_base=0) for r_i, c_i in zip(r, torch.stack(codes, 1))])
        residuals.append(r)
    return torch.stack(codes, 1), residuals


def quantized(E, codes):
    """ẑ = Σ_d e^d_{c_d}, evaluated from the note's LaTeX for each item's codes (B, m) -> (B, D)."""
    return torch.stack([evaluate_with("rajput2023recommender/rq-quantized", {"e": list(E), "c": c, "m": E.shape[0]},
                                      index_base=0) for c in codes])


def random_problem(generator, batch=12):
    z = torch.randn(batch, D, generator=generator, dtype=torch.float64).to(device())
    E = torch.randn(m, K, D, generator=generator, dtype=torch.float64).to(device())
    E = E * torch.tensor([1.0, 0.5, 0.25], dtype=torch.float64, device=device())[:, None, None]
    return z, E


@check("rajput2023recommender/rq-init", tex=r"r_0 = z", evaluates=True)
@check("rajput2023recommender/rq-code", tex=r"c_d = \arg\min_{k} \left\lVert r_d - e^d_k \right\rVert", evaluates=True)
@check("rajput2023recommender/rq-residual", tex=r"r_{d+1} = r_d - e^d_{c_d}", evaluates=True)
@check("rajput2023recommender/rq-quantized", tex=r"\hat{z} = \sum_{d=0}^{m-1} e^d_{c_d}", evaluates=True)
def check_residual_quantisation():
    """Each level's code is torch.cdist's nearest codeword to the current residual; ẑ = Σ_d e^d_{c_d}
    leaves exactly the last residual, z − ẑ = r_m; r_0 is z itself."""
    g = seed(0)
    z, E = random_problem(g)
    codes, residuals = residual_quantise(z, E)
    close(residuals[0], z, "r_0 (from the note's LaTeX) against z")
    for d in range(m):
        reference = torch.cdist(residuals[d], E[d]).argmin(-1)
        close(codes[:, d].double(), reference.double(), f"c_{d} against torch.cdist argmin")
        close(residuals[d + 1], residuals[d].detach() - E[d][reference], f"r_{d + 1} = r_{d} − e^{d}_(cdist code)")
    # ẑ = Σ_d e^d_{c_d}
    z_hat = quantized(E, codes)
    close(z - z_hat, residuals[-1], "z − ẑ against the last residual r_m")


@check("rajput2023recommender/rq-code", tex=r"c_d = \arg\min_{k} \left\lVert r_d - e^d_k \right\rVert")
@check("rajput2023recommender/rq-residual", tex=r"r_{d+1} = r_d - e^d_{c_d}")
@check("rajput2023recommender/rq-quantized", tex=r"\hat{z} = \sum_{d=0}^{m-1} e^d_{c_d}")
def check_planted_codes_are_recovered():
    """With codebooks of scales 1, 0.05, 0.0025 and z built as a sum of one codeword per level, residual
    quantisation returns exactly the planted codes (coarse level first), ẑ = z and r_m = 0."""
    g = seed(1)
    E = torch.randn(m, K, D, generator=g, dtype=torch.float64).to(device())
    E = E * torch.tensor([1.0, 0.05, 0.0025], dtype=torch.float64, device=device())[:, None, None]
    planted = torch.randint(0, K, (20, m), generator=g).to(device())
    z = sum(E[d][planted[:, d]] for d in range(m))
    codes, residuals = residual_quantise(z, E)
    close(codes.double(), planted.double(), "recovered Semantic IDs against the planted ones")
    close(quantized(E, codes), z, "ẑ = z")
    close(residuals[-1], torch.zeros_like(z), "r_m = 0", atol=1e-12)


@check("rajput2023recommender/rqvae-loss",
       tex=r"\mathcal{L}(x) = \lVert x - \hat{x} \rVert^2 + \sum_{d=0}^{m-1} \left( \left\lVert \operatorname{sg}[r_d] - e^d_{c_d} \right\rVert^2 + \beta \left\lVert r_d - \operatorname{sg}\left[e^d_{c_d}\right] \right\rVert^2 \right)",
       evaluates=True)
def check_rqvae_loss_and_its_stop_gradients():
    """Loss value against F.mse_loss(reduction="sum") with detach() as sg[·], summed over a batch
    of 5 items; then the gradients autograd gives against what the stop-gradients imply:

    - codebook term: ∂/∂e^d_k = Σ_{items with c_d = k} 2 (e^d_k − r_d), nothing to z;
    - commitment term: ∂/∂z = 2β Σ_d (r_d − e^d_{c_d}), nothing to e^d_{c_d} of its own level (only to
      earlier levels' codewords, through r_d = r_{d−1} − e^{d−1}_{c_{d−1}});
    - reconstruction via straight-through z + sg[ẑ − z]: ∂/∂z = 2 (x̂ − x) W_dec, nothing to codebooks.
    """
    g = seed(2)
    x_dim, batch = 10, 5
    W_dec = torch.randn(x_dim, D, generator=g, dtype=torch.float64).to(device())
    x = torch.randn(batch, x_dim, generator=g, dtype=torch.float64).to(device())
    z, E = random_problem(g, batch)
    z.requires_grad_(True)
    E.requires_grad_(True)
    codes, r = residual_quantise(z, E)
    e = [E[d][codes[:, d]] for d in range(m)]                     # e^d_{c_d}: (batch, D)
    z_hat = sum(e)
    z_q = z + (z_hat - z).detach()                                 # straight-through decoder input
    x_hat = z_q @ W_dec.T

    reconstruction = ((x - x_hat) ** 2).sum()
    codebook = sum(((r[d].detach() - e[d]) ** 2).sum() for d in range(m))         # ‖sg[r_d] − e^d_{c_d}‖²
    commitment = sum(beta * ((r[d] - e[d].detach()) ** 2).sum() for d in range(m))  # β‖r_d − sg[e^d_{c_d}]‖²
    loss = reconstruction + codebook + commitment
    reference = F.mse_loss(x_hat, x, reduction="sum") + sum(
        F.mse_loss(e[d], r[d].detach(), reduction="sum") + beta * F.mse_loss(r[d], e[d].detach(), reduction="sum")
        for d in range(m))
    close(loss.detach(), reference.detach(), "L(x) against F.mse_loss with detach() as sg")
    # L(x) = ‖x − x̂‖² + Σ_d (‖sg[r_d] − e^d_{c_d}‖² + β‖r_d − sg[e^d_{c_d}]‖²), per item, sg = detach
    evaluated = sum(evaluate_with("rajput2023recommender/rqvae-loss",
                                  {"x": x[i], "xhat": x_hat[i], "r": [r_d[i] for r_d in r], "e": list(E), "c": codes[i],
                                   "m": m, "beta": beta, "sg": torch.Tensor.detach}, index_base=0) for i in range(batch))
    close(evaluated, reference, "L(x) from the note's LaTeX against F.mse_loss with detach() as sg")
    for name, got, expected in zip(("E", "z"), torch.autograd.grad(evaluated, (E, z), retain_graph=True),
                                   torch.autograd.grad(reference, (E, z), retain_graph=True)):
        close(got, expected, f"∂L/∂{name} through the note's sg[·] against F.mse_loss with detach()")
    close(z_q.detach(), z_hat.detach(), "straight-through input equals ẑ in the forward pass")

    r = [r_d.detach() for r_d in r]
    e = [e_d.detach() for e_d in e]
    zero_E, zero_z = torch.zeros_like(E), torch.zeros_like(z)

    dE, dz = torch.autograd.grad(codebook, (E, z), retain_graph=True, allow_unused=True)
    expected = zero_E.clone()
    for d in range(m):
        expected[d].index_add_(0, codes[:, d], 2 * (e[d] - r[d]))
    close(dE, expected, "codebook term: ∂/∂E (only chosen rows, 2(e − r_d))")
    close(dz if dz is not None else zero_z, zero_z, "codebook term: no gradient to z")

    dE, dz = torch.autograd.grad(commitment, (E, z), retain_graph=True)
    close(dz, 2 * beta * sum(r[d] - e[d] for d in range(m)), "commitment term: ∂/∂z = 2β Σ_d (r_d − e_d)")
    expected = zero_E.clone()
    for d in range(m):
        later = sum((r[j] - e[j] for j in range(d + 1, m)), zero_z)
        expected[d].index_add_(0, codes[:, d], -2 * beta * later)
    close(dE, expected, "commitment term: ∂/∂E only through later residuals, never its own level")

    dE, dz = torch.autograd.grad(reconstruction, (E, z), retain_graph=True, allow_unused=True)
    close(dz, 2 * (x_hat.detach() - x) @ W_dec, "reconstruction: straight-through ∂/∂z = 2(x̂ − x) W_dec")
    close(dE if dE is not None else zero_E, zero_E, "reconstruction: no gradient to the codebooks")


@check("rajput2023recommender/autoregressive-id",
       tex=r"p\left(c_0, \dots, c_{m-1} \mid h\right) = \prod_{d=0}^{m-1} p\left(c_d \mid c_0, \dots, c_{d-1}, h\right)")
def check_autoregressive_factorisation():
    """A toy decoder gives logits for c_d from (h, c_0..c_{d−1}). The product of per-step softmax
    probabilities: its log equals −F.cross_entropy under teacher forcing (summed over steps); over all
    K^m tuples it sums to 1; and marginalising it recovers the step-0 and step-1 conditionals."""
    g = seed(3)
    K_, h_dim, batch = 4, 5, 6
    W_h = torch.randn(h_dim, 8, generator=g, dtype=torch.float64).to(device())
    code_embedding = torch.randn(m, K_, 8, generator=g, dtype=torch.float64).to(device())
    heads = torch.randn(m, 8, K_, generator=g, dtype=torch.float64).to(device())
    h = torch.randn(batch, h_dim, generator=g, dtype=torch.float64).to(device())

    def step_logits(h, prefix, d):
        """h: (B, h_dim), prefix: (B, d) codes -> logits (B, K) for c_d."""
        state = h @ W_h
        for j in range(d):
            state = state + code_embedding[j][prefix[:, j]]
        return torch.tanh(state) @ heads[d]

    def log_p(h, c):
        """log p(c_0..c_{m−1} | h) = Σ_d log softmax(step logits)[c_d]: (B,)."""
        return sum(torch.log_softmax(step_logits(h, c[:, :d], d), -1).gather(1, c[:, d:d + 1])[:, 0]
                   for d in range(m))

    c = torch.randint(0, K_, (batch, m), generator=g).to(device())
    # p(c_0, …, c_{m−1} | h) = Π_d p(c_d | c_0, …, c_{d−1}, h)
    product = torch.ones(batch, dtype=torch.float64, device=device())
    for d in range(m):
        product = product * torch.softmax(step_logits(h, c[:, :d], d), -1).gather(1, c[:, d:d + 1])[:, 0]
    logits = torch.stack([step_logits(h, c[:, :d], d) for d in range(m)], 1)          # teacher forcing
    nll = F.cross_entropy(logits.reshape(-1, K_), c.reshape(-1), reduction="none").reshape(batch, m).sum(1)
    close(torch.log(product), -nll, "log Π_d p(c_d | …) against −cross-entropy under teacher forcing")
    close(log_p(h, c), -nll, "Σ_d log-softmax against −cross-entropy")

    tuples = torch.tensor(list(itertools.product(range(K_), repeat=m)), device=device())     # (K^m, m)
    joint = torch.stack([log_p(h[i:i + 1].expand(len(tuples), -1), tuples).exp() for i in range(batch)])
    joint = joint.reshape(batch, *([K_] * m))
    close(joint.sum((1, 2, 3)), torch.ones(batch, dtype=torch.float64, device=device()), "Σ over all K^m IDs = 1")
    p_c0 = joint.sum((2, 3))
    close(p_c0, torch.softmax(step_logits(h, c[:, :0], 0), -1), "marginal p(c_0 | h) against step 0")
    for c_0 in range(K_):
        prefix = torch.full((batch, 1), c_0, device=device())
        close(joint[:, c_0].sum(-1) / p_c0[:, c_0:c_0 + 1], torch.softmax(step_logits(h, prefix, 1), -1),
              f"p(c_1 | c_0={c_0}, h) from the joint against step 1")


if __name__ == "__main__":
    run_checks(__name__)
