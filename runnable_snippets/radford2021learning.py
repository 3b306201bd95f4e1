"""Checks for notes/radford2021learning.md: CLIP's normalised embeddings (F.normalize), the temperature-scaled
logits, the symmetric contrastive loss (against F.cross_entropy on rows and columns, and a brute-force per-pair
InfoNCE with Python loops), the temperature initialisation and the loss's invariance to feature scaling.
"""
import math

import torch
import torch.nn.functional as F

from harness import check, close, device, differs, evaluate, run_checks, seed

f64 = torch.float64


def batch(g, N=6, d_image=10, d_text=7, d_embed=4):
    """Encoder outputs I_f: (N, d_image), T_f: (N, d_text) and projections W_i: (d_image, d_embed),
    W_t: (d_text, d_embed)."""
    shapes = [(N, d_image), (N, d_text), (d_image, d_embed), (d_text, d_embed)]
    return [torch.randn(*s, generator=g, dtype=f64).to(device()) for s in shapes]


def clip_loss(I_f, T_f, W_i, W_t, t):
    """The note's equations, written out: embeddings, logits, symmetric loss."""
    # I_e = I_f W_i / ‖I_f W_i‖, T_e = T_f W_t / ‖T_f W_t‖ (row-wise)
    I_e = I_f @ W_i / (I_f @ W_i).norm(dim=1, keepdim=True)
    T_e = T_f @ W_t / (T_f @ W_t).norm(dim=1, keepdim=True)
    # ℓ = I_e T_eᵀ · exp(t)
    logits = I_e @ T_e.T * math.exp(t)
    N = logits.shape[0]
    diag = logits.diagonal()
    # L = −1/(2N) Σ_j (log softmax over row j at j + log softmax over column j at j)
    rows = diag - logits.logsumexp(dim=1)
    cols = diag - logits.logsumexp(dim=0)
    return -(rows + cols).sum() / (2 * N), logits, I_e, T_e


@check("radford2021learning/embeddings",
       tex=r"I_e = \frac{I_f W_i}{\lVert I_f W_i \rVert_2}, \qquad T_e = \frac{T_f W_t}{\lVert T_f W_t \rVert_2}")
@check("radford2021learning/logits", tex=r"\ell = I_e T_e^\top \cdot \exp(t)")
@check("radford2021learning/symmetric-loss",
       tex=r"\mathcal{L} = -\frac{1}{2N} \sum_{j=1}^{N} \left( \log \frac{\exp(\ell_{jj})}{\sum_{k=1}^{N} \exp(\ell_{jk})} + \log \frac{\exp(\ell_{jj})}{\sum_{k=1}^{N} \exp(\ell_{kj})} \right)")
def check_symmetric_contrastive_loss():
    """N = 6 pairs, 4-d joint space, t = log(1/0.07): embeddings vs F.normalize, logits are cosine similarities
    × exp(t), the loss vs (F.cross_entropy(ℓ, arange) + F.cross_entropy(ℓᵀ, arange)) / 2 and vs a brute-force
    per-pair InfoNCE computed with Python floats."""
    g = seed(0)
    I_f, T_f, W_i, W_t = batch(g)
    t = math.log(1 / 0.07)
    loss, logits, I_e, T_e = clip_loss(I_f, T_f, W_i, W_t, t)
    close(I_e, F.normalize(I_f @ W_i, dim=1), "I_e vs F.normalize")
    close(T_e, F.normalize(T_f @ W_t, dim=1), "T_e vs F.normalize")
    cosine = F.cosine_similarity((I_f @ W_i)[:, None, :], (T_f @ W_t)[None, :, :], dim=-1)
    close(logits, cosine * math.exp(t), "ℓ_jk = cos(image j, text k) · exp(t)")
    labels = torch.arange(logits.shape[0], device=logits.device)
    reference = (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2
    close(loss, reference, "symmetric loss vs F.cross_entropy on rows and columns")
    # brute force: for every image, InfoNCE over the N texts; for every text, over the N images
    l = logits.tolist()
    N = len(l)
    image_terms = [-math.log(math.exp(l[j][j]) / sum(math.exp(l[j][k]) for k in range(N))) for j in range(N)]
    text_terms = [-math.log(math.exp(l[j][j]) / sum(math.exp(l[k][j]) for k in range(N))) for j in range(N)]
    close(loss, (sum(image_terms) / N + sum(text_terms) / N) / 2, "symmetric loss vs brute-force per-pair InfoNCE")
    # the two directions are different losses: dropping one changes the value
    differs(F.cross_entropy(logits, labels), reference, "image→text half alone vs the symmetric loss", at_least=1e-3)


@check("radford2021learning/temperature-init", tex=r"t_0 = \log\frac{1}{\tau_0}", evaluates=True)
def check_temperature_init_and_scale_invariance():
    """t_0 from the note's LaTeX with τ_0 = 0.07: exp(t_0) = 1/0.07 ≈ 14.29, so the initial logits are cosine / 0.07;
    the loss is unchanged when the features of one example are rescaled."""
    t_0_evaluated = evaluate("radford2021learning/temperature-init", tau_0=0.07)
    t_0 = float(t_0_evaluated)
    close(torch.exp(t_0_evaluated), 1 / 0.07, "exp(t_0) = 1/τ_0")
    close(math.exp(t_0), 14.2857, "≈ 14.3", atol=1e-4)
    g = seed(1)
    I_f, T_f, W_i, W_t = batch(g)
    loss, logits, I_e, T_e = clip_loss(I_f, T_f, W_i, W_t, t_0)
    close(logits, I_e @ T_e.T / 0.07, "initial logits = cosine / 0.07")
    scale = torch.ones(I_f.shape[0], 1, dtype=f64, device=I_f.device)
    scale[2], scale[4] = 7.5, 0.01
    rescaled, *_ = clip_loss(I_f * scale, T_f * 3.0, W_i, W_t, t_0)
    close(rescaled, loss, "loss invariant to positive rescaling of features")


if __name__ == "__main__":
    run_checks(__name__)
