"""Checks for notes/clark2020electra.md: the generator's softmax, the MLM loss over masked positions, the
discriminator's sigmoid and per-token binary cross-entropy over all positions, and the joint objective
with λ = 50 (gradients: none from the discriminator loss reach the generator).

References: torch.softmax, F.cross_entropy, F.binary_cross_entropy_with_logits, autograd, and a Monte-Carlo
estimate of how often a sampled replacement equals the original token.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

from harness import check, close, device, differs, evaluate, evaluate_with, run_checks, seed

f64 = torch.float64
vocab, hidden, n, batch, MASK = 40, 16, 24, 4, 0
lam = 50.0


class Encoder(nn.Module):
    """A tiny stand-in for a Transformer encoder: embeddings, one self-attention layer, output vectors."""

    def __init__(self, with_w):
        super().__init__()
        self.e = nn.Embedding(vocab, hidden, dtype=f64)
        self.layer = nn.TransformerEncoderLayer(hidden, 2, 32, dropout=0.0, batch_first=True, dtype=f64)
        self.w = nn.Parameter(torch.randn(hidden, dtype=f64)) if with_w else None

    def forward(self, x):
        return self.layer(self.e(x))          # h(x): (batch, n, hidden)


def setup():
    """x: (4, 24) ids in 1..39, masked positions m (15%), generator G and discriminator D."""
    seed(0)
    G, D = Encoder(False).to(device()), Encoder(True).to(device())
    g = seed(1)
    x = torch.randint(1, vocab, (batch, n), generator=g).to(device())
    m = torch.zeros(batch, n, dtype=torch.bool)
    for b in range(batch):
        m[b, torch.randperm(n, generator=g)[:math.ceil(0.15 * n)]] = True
    m = m.to(device())
    x_masked = torch.where(m, torch.full_like(x, MASK), x)
    return G, D, x, m, x_masked


def generator_logits(G, x_masked):
    h_G = G(x_masked)                          # (batch, n, hidden)
    return h_G @ G.e.weight.T                  # e(x')ᵀ h_G(x)_t for every x' in the vocabulary


@check("clark2020electra/generator-softmax",
       tex=r"p_G\left(x_t \mid \boldsymbol{x}\right) = \frac{\exp\left(e(x_t)^\top h_G(\boldsymbol{x})_t\right)}{\sum_{x'} \exp\left(e(x')^\top h_G(\boldsymbol{x})_t\right)}",
       evaluates=True)
def check_generator_softmax():
    """p_G over the 40-token vocabulary at every position, written out, against torch.softmax; and the note's
    formula evaluated at four positions (Σ_x' over the vocabulary) against the same softmax."""
    G, _, _, _, x_masked = setup()
    with torch.no_grad():
        h_G, e = G(x_masked), G.e.weight
        # p_G(x_t | x) = exp(e(x_t)ᵀ h_G(x)_t) / Σ_x' exp(e(x')ᵀ h_G(x)_t)
        numerator = torch.exp(torch.einsum("bth,vh->btv", h_G, e))
        p_G = numerator / numerator.sum(-1, keepdim=True)
        close(p_G, torch.softmax(h_G @ e.T, dim=-1), "p_G vs torch.softmax")
        close(p_G.sum(-1), torch.ones(batch, n, dtype=f64), "p_G sums to 1 over the vocabulary")
        e_of = lambda token: e[token.long()]                                            # noqa: E731
        encoded = {}                                     # h_G(x) once per input, not once per term of Σ_x'

        def h_of(tokens):
            key = tuple(tokens.long().tolist())
            if key not in encoded:
                encoded[key] = G(tokens.long()[None])[0]
            return encoded[key]

        reference = torch.softmax(h_G @ e.T, dim=-1)
        for b, t in ((0, 1), (1, 7), (2, 13), (3, 24)):
            # p_G(x_t | x) = exp(e(x_t)ᵀ h_G(x)_t) / Σ_x' exp(e(x')ᵀ h_G(x)_t), x the generator's input, t from 1
            p = evaluate_with("clark2020electra/generator-softmax", {"x": x_masked[b], "t": t, "e": e_of, "h_G": h_of},
                              indices={"x'": range(vocab)})
            close(p, reference[b, t - 1, x_masked[b, t - 1]], f"p_G(x_t | x) at position {t} of sequence {b}")


def mlm_loss(G, x, m, x_masked):
    log_p = torch.log_softmax(generator_logits(G, x_masked), -1)
    # L_MLM = Σ_{i ∈ m} −log p_G(x_i | x^masked)   (one sample of the expectation)
    return -(log_p.gather(-1, x[..., None]).squeeze(-1) * m).sum()


@check("clark2020electra/mlm-loss",
       tex=r"\mathcal{L}_{MLM}\left(\boldsymbol{x}, \theta_G\right) = \mathbb{E}\left(\sum_{i \in \boldsymbol{m}} -\log p_G\left(x_i \mid \boldsymbol{x}^{masked}\right)\right)")
def check_mlm_loss():
    """Sum over the 4 × 4 masked positions against F.cross_entropy(reduction="sum") on those positions;
    including the unmasked positions gives a different value."""
    G, _, x, m, x_masked = setup()
    with torch.no_grad():
        logits = generator_logits(G, x_masked)
        close(mlm_loss(G, x, m, x_masked), F.cross_entropy(logits[m], x[m], reduction="sum"), "L_MLM")
        differs(F.cross_entropy(logits.flatten(0, 1), x.flatten(), reduction="sum"), mlm_loss(G, x, m, x_masked),
                "loss over all positions vs masked positions only")


def corrupt(G, x, m, x_masked, g):
    """x^corrupt: x with a token sampled from p_G at each masked position (no gradient through sampling)."""
    with torch.no_grad():
        p_G = torch.softmax(generator_logits(G, x_masked), -1)
        samples = torch.multinomial(p_G.flatten(0, 1).cpu(), 1, generator=g).view(batch, n).to(device())
    return torch.where(m, samples, x)


def disc_loss(D, x, x_corrupt):
    """Per-token terms of L_Disc: (batch, n)."""
    # D(x, t) = sigmoid(wᵀ h_D(x)_t)
    D_t = torch.sigmoid(D(x_corrupt) @ D.w)
    original = (x_corrupt == x).to(f64)       # 1(x^corrupt_t = x_t)
    # −1(x^corrupt_t = x_t) log D − 1(x^corrupt_t ≠ x_t) log(1 − D)
    return -original * torch.log(D_t) - (1 - original) * torch.log(1 - D_t)


@check("clark2020electra/discriminator", tex=r"D\left(\boldsymbol{x}, t\right) = \operatorname{sigmoid}\left(w^\top h_D(\boldsymbol{x})_t\right)",
       evaluates=True)
@check("clark2020electra/disc-loss",
       tex=r"\mathcal{L}_{Disc}\left(\boldsymbol{x}, \theta_D\right) = \mathbb{E}\left(\sum_{t=1}^{n} \left(-\mathbb{1}\left(x^{corrupt}_t = x_t\right) \log D\left(\boldsymbol{x}^{corrupt}, t\right) - \mathbb{1}\left(x^{corrupt}_t \neq x_t\right) \log\left(1 - D\left(\boldsymbol{x}^{corrupt}, t\right)\right)\right)\right)",
       evaluates=True)
def check_discriminator_loss():
    """All 4 × 24 positions: the written-out loss against F.binary_cross_entropy_with_logits(z, y, "sum")
    with z = wᵀh_D and y = 1(x^corrupt = x); a masked position whose sample equals the original is labelled
    original; and P(x̂_i = x_i) = p_G(x_i | x^masked), estimated from 10⁵ samples within 5 standard errors."""
    G, D, x, m, x_masked = setup()
    g = seed(2)
    x_corrupt = corrupt(G, x, m, x_masked, g)
    x_corrupt[0, m[0].nonzero()[0, 0]] = x[0, m[0].nonzero()[0, 0]]     # a "lucky" sample: equals the original
    with torch.no_grad():
        z = D(x_corrupt) @ D.w
        y = (x_corrupt == x).to(f64)
        close(disc_loss(D, x, x_corrupt).sum(), F.binary_cross_entropy_with_logits(z, y, reduction="sum"),
              "L_Disc vs F.binary_cross_entropy_with_logits")
        # L_Disc(x, θ_D) = E(Σ_{t=1}^{n} −1(x^corrupt_t = x_t) log D(x^corrupt, t) − 1(x^corrupt_t ≠ x_t) log(1 − D(x^corrupt, t))),
        # evaluated from the note's LaTeX: the expectation over the batch's sequences (samples=), D(x, t) the
        # discriminator's probability at position t (token ids come back as float64, so they are turned to integers)
        def D_of(sequence, t):
            return torch.sigmoid(D(sequence.long()[None])[0] @ D.w)[int(t) - 1]

        L_note = evaluate_with("clark2020electra/disc-loss", {"x": x, "x^corrupt": x_corrupt, "n": n, "D": D_of},
                               samples={"x": x, "x^corrupt": x_corrupt})
        close(L_note, F.binary_cross_entropy_with_logits(z, y, reduction="sum") / batch,
              "the note's L_Disc (mean over sequences) vs F.binary_cross_entropy_with_logits")
        # D(x, t) = sigmoid(wᵀ h_D(x)_t), evaluated at positions t = 1..8 of the first corrupted sequence
        # (the evaluator hands tensors on as float64, so h_D turns the token ids back into integers)
        D_t = torch.stack([evaluate("clark2020electra/discriminator", x=x_corrupt[0], t=t, w=D.w,
                                    h_D=lambda sequence: D(sequence.long()[None])[0]) for t in range(1, 9)])
        close(-torch.log(D_t), F.binary_cross_entropy_with_logits(z[0, :8], torch.ones(8, dtype=f64, device=device()), reduction="none"),
              "−log D(x, t) vs F.binary_cross_entropy_with_logits(wᵀh_D, 1)")
        close(y[0, m[0].nonzero()[0, 0]], 1.0, "a correct sample counts as original", rtol=0, atol=0)
        close(y[~m], torch.ones(int((~m).sum()), dtype=f64, device=device()), "unmasked positions are original",
              rtol=0, atol=0)
        differs(disc_loss(D, x, x_corrupt)[m].sum(), disc_loss(D, x, x_corrupt).sum(),
                "loss on masked positions only vs all positions")
        # how often the generator reproduces the original at one masked position
        b, t = 1, int(m[1].nonzero()[0, 0])
        p = torch.softmax(generator_logits(G, x_masked), -1)[b, t].cpu()
        draws = torch.multinomial(p, 100_000, replacement=True, generator=seed(3))
        frequency = (draws == int(x[b, t])).double().mean()
        p_true = p[int(x[b, t])]
        standard_error = math.sqrt(float(p_true * (1 - p_true)) / 100_000)
        close(frequency, p_true, "P(x̂_i = x_i) = p_G(x_i | x^masked)", rtol=0, atol=5 * standard_error)


@check("clark2020electra/objective",
       tex=r"\min_{\theta_G, \theta_D} \sum_{\boldsymbol{x} \in \mathcal{X}} \mathcal{L}_{MLM}\left(\boldsymbol{x}, \theta_G\right) + \lambda \mathcal{L}_{Disc}\left(\boldsymbol{x}, \theta_D\right)")
def check_joint_objective_gradients():
    """Corpus of 2 batches, λ = 50. Autograd of the joint loss: the generator's gradient equals that of
    Σ L_MLM alone (sampling blocks the discriminator loss), the discriminator's equals 50 × that of Σ L_Disc."""
    G, D, x, m, x_masked = setup()
    corpus = [(x, m, x_masked), (x.flip(0), m.flip(0), x_masked.flip(0))]

    def losses():
        mlm = sum(mlm_loss(G, xb, mb, xmb) for xb, mb, xmb in corpus)
        disc = sum(disc_loss(D, xb, corrupt(G, xb, mb, xmb, seed(5 + i))).sum() for i, (xb, mb, xmb) in enumerate(corpus))
        return mlm, disc

    mlm, disc = losses()
    # Σ_x L_MLM(x, θ_G) + λ L_Disc(x, θ_D)
    total = mlm + lam * disc
    params_G, params_D = list(G.parameters()), list(D.parameters())
    grads = torch.autograd.grad(total, params_G + params_D, allow_unused=True)
    grad_G, grad_D = grads[:len(params_G)], grads[len(params_G):]
    mlm, disc = losses()                                    # same seeds: the same samples
    ref_G = torch.autograd.grad(mlm, params_G, allow_unused=True)
    ref_D = torch.autograd.grad(disc, params_D, allow_unused=True)
    for a, b in zip(grad_G, ref_G):
        close(a if a is not None else torch.zeros(1), b if b is not None else torch.zeros(1), "∂/∂θ_G = ∂L_MLM/∂θ_G")
    for a, b in zip(grad_D, ref_D):
        close(a, lam * b, "∂/∂θ_D = λ ∂L_Disc/∂θ_D")


if __name__ == "__main__":
    run_checks(__name__)
