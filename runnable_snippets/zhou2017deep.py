"""Checks for notes/zhou2017deep.md: DIN's candidate-dependent user representation, its activation unit,
the softmax misstatement, Dice, the training loss, GAUC and RelaImpr.

References: an explicit loop over behaviours, nn.Sequential(nn.Linear, nn.PReLU, nn.Linear) with the same
weights, F.softmax, torch.lerp and F.prelu, nn.BatchNorm1d(affine=False) in training mode for Dice's
batch statistics, F.binary_cross_entropy, a rank (Mann–Whitney) AUC against pair counting, numpy.average.
"""
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from harness import check, close, device, differs, evaluate, evaluate_with, run_checks, seed

f64 = torch.float64
D, m = 6, 36          # embedding size and hidden width of the activation unit (the paper's figure: 36)


def randn(g, *shape):
    return torch.randn(*shape, generator=g, dtype=f64).to(device())


def activation_unit_module(g):
    unit = nn.Sequential(nn.Linear(4 * D, m), nn.PReLU(num_parameters=m, init=0.25), nn.Linear(m, 1)).to(device(), f64)
    with torch.no_grad():
        for p in unit.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=f64) * 0.5)
    return unit


def activation_unit(e, v_A, W_1, b_1, alpha, w_2, b_2):
    """e: (H, D) behaviours, v_A: (D,) ad -> w: (H,) unnormalised weights."""
    v = v_A.expand_as(e)
    # a(e_j, v_A) = w_2ᵀ g(W_1 [e_j; v_A; e_j − v_A; e_j ⊙ v_A] + b_1) + b_2,  g = PReLU
    z = torch.cat([e, v, e - v, e * v], dim=-1) @ W_1.T + b_1
    hidden = torch.where(z > 0, z, alpha * z)
    return hidden @ w_2 + b_2


def unit_weights(unit):
    return unit[0].weight, unit[0].bias, unit[1].weight, unit[2].weight[0], unit[2].bias[0]


@check("zhou2017deep/activation-unit",
       tex=r"a(\mathbf{e}_j, \mathbf{v}_A) = \mathbf{w}_2^\top \, g\left(W_1 \left[\mathbf{e}_j; \mathbf{v}_A; \mathbf{e}_j - \mathbf{v}_A; \mathbf{e}_j \odot \mathbf{v}_A\right] + \mathbf{b}_1\right) + b_2",
       evaluates=True)
def check_activation_unit_against_nn_modules():
    """The unit from the note's LaTeX for each of 7 behaviours e_j ([a; b; ...] stacks the four vectors into
    one of length 4D) equals nn.Sequential(Linear(4D, 36), PReLU(36), Linear(36, 1)) with the same weights;
    the written-out helper used by the other checks too."""
    g = seed(0)
    unit = activation_unit_module(g)
    e, v_A = randn(g, 7, D), randn(g, D)
    with torch.no_grad():
        reference = unit(torch.cat([e, v_A.expand_as(e), e - v_A, e * v_A], -1))[:, 0]
        W_1, b_1, alpha, w_2, b_2 = unit_weights(unit)
        # a(e_j, v_A) = w_2ᵀ g(W_1 [e_j; v_A; e_j − v_A; e_j ⊙ v_A] + b_1) + b_2,  g = PReLU
        a = torch.stack([evaluate("zhou2017deep/activation-unit", e=e, j=j, v_A=v_A, W_1=W_1, b_1=b_1, w_2=w_2, b_2=b_2,
                                  g=lambda z: unit[1](z[None])[0]) for j in range(1, len(e) + 1)])
    close(a, reference, "a(e_j, v_A) from the note against nn.Sequential")
    close(activation_unit(e, v_A, *unit_weights(unit)), reference, "the helper's a(e_j, v_A) against nn.Sequential")


@check("zhou2017deep/user-representation",
       tex=r"\mathbf{v}_U(A) = f(\mathbf{v}_A, \mathbf{e}_1, \ldots, \mathbf{e}_H) = \sum_{j=1}^{H} a(\mathbf{e}_j, \mathbf{v}_A)\, \mathbf{e}_j", evaluates=True)
def check_user_representation_is_an_unnormalised_weighted_sum():
    """Batched over 3 users × H = 5 behaviours: the weighted sum equals an explicit loop over j; the weights
    do not sum to 1; repeating the whole history doubles v_U(A); the user vector depends on the ad."""
    g = seed(1)
    unit = activation_unit_module(g)
    weights = unit_weights(unit)
    E = randn(g, 3, 5, D)                       # (users, H, D)
    v_A = randn(g, D)
    w = torch.stack([activation_unit(e, v_A, *weights) for e in E])            # (users, H)
    # v_U(A) = Σ_{j=1}^{H} a(e_j, v_A) e_j, evaluated from the note per user, a the activation unit as a callable
    def a(e_j, v_A):
        return activation_unit(e_j[None], v_A, *weights)[0]
    v_U = torch.stack([evaluate("zhou2017deep/user-representation", e=E[u], v_A=v_A, a=a, H=5) for u in range(3)])
    close(v_U, torch.einsum("uh,uhd->ud", w, E), "the note's weighted sum against einsum over the unit's weights")
    loop = torch.stack([sum(activation_unit(E[u, j:j + 1], v_A, *weights)[0] * E[u, j] for j in range(5)) for u in range(3)])
    close(v_U, loop, "Σ_j a(e_j, v_A) e_j against an explicit loop over behaviours")
    differs(w.sum(-1), torch.ones(3, dtype=f64), "the weights of each user do not sum to 1 (no softmax)")

    doubled = torch.cat([E[0], E[0]])
    close(activation_unit(doubled, v_A, *weights) @ doubled, 2 * v_U[0], "repeating the history doubles v_U(A) (intensity kept)")
    v_B = randn(g, D)
    differs(activation_unit(E[0], v_B, *weights) @ E[0], v_U[0], "the user vector changes with the candidate ad")


@check("zhou2017deep/misstatement-softmax",
       tex=r"a(\mathbf{v}, \mathbf{t}) = \frac{\exp(\mathbf{v}^\top \mathbf{t})}{\sum_{\mathbf{v}' \in \mathbf{V}} \exp(\mathbf{v}'^\top \mathbf{t})}",
       evaluates=True)
def check_softmax_form_differs_from_din():
    """The misstated form is F.softmax over dot products: it always sums to 1, is blind to repeating the
    history, and gives different weights from DIN's unit."""
    g = seed(2)
    unit = activation_unit_module(g)
    V, t = randn(g, 5, D), randn(g, D)
    # a(v, t) = exp(vᵀt) / Σ_{v'∈V} exp(v'ᵀt), from the note's LaTeX for each behaviour v (V's rows)
    logits = V @ t
    a_softmax = torch.stack([evaluate("zhou2017deep/misstatement-softmax", v=v, t=t, V=V) for v in V])
    close(a_softmax, F.softmax(logits, dim=0), "the misstated form is a softmax")
    close(a_softmax.sum(), 1.0, "softmax weights always sum to 1")
    a_din = activation_unit(V, t, *unit_weights(unit))
    differs(a_softmax, a_din, "softmax weights vs DIN's activation-unit weights")
    doubled = torch.cat([V, V])
    pooled_twice = F.softmax(doubled @ t, 0) @ doubled
    close(pooled_twice, a_softmax @ V, "with softmax, repeating the history changes nothing")
    differs(activation_unit(doubled, t, *unit_weights(unit)) @ doubled, a_din @ V, "with DIN, it does")


@check("zhou2017deep/dice", tex=r"f(s) = p \cdot s + (1 - p) \cdot \alpha \cdot s", evaluates=True)
@check("zhou2017deep/dice-gate", tex=r"p = \frac{1}{1 + e^{-\frac{s - \mu_s}{\sqrt{v_s + \epsilon}}}}", evaluates=True)
def check_dice_against_batchnorm_gate():
    """s: (batch 64, 8 units). The gate is the sigmoid of nn.BatchNorm1d(affine=False) in training mode
    (biased mini-batch variance); Dice is torch.lerp(α s, s, p); with a step gate Dice is F.prelu."""
    g = seed(3)
    epsilon, alpha = 1e-8, 0.25
    s = (randn(g, 64, 8) * 2 + 1).cpu()
    mu_s = s.mean(0, keepdim=True)
    v_s = s.var(0, unbiased=False, keepdim=True)
    p = evaluate("zhou2017deep/dice-gate", s=s, mu_s=mu_s, v_s=v_s, epsilon=epsilon, e=math.e)
    bn = nn.BatchNorm1d(8, eps=epsilon, affine=False, dtype=f64).train()
    close(p, torch.sigmoid(bn(s)), "p(s) against sigmoid(BatchNorm1d(s)) with mini-batch statistics")
    f = evaluate("zhou2017deep/dice", p=p, s=s, alpha=alpha)
    close(f, torch.lerp(alpha * s, s, p), "Dice against torch.lerp(α s, s, p)")
    step = (s > 0).to(f64)
    close(evaluate("zhou2017deep/dice", p=step, s=s, alpha=alpha), F.prelu(s, torch.tensor([alpha], dtype=f64)),
          "with the gate 1[s > 0] Dice is PReLU")
    differs(f, F.prelu(s, torch.tensor([alpha], dtype=f64)), "the smooth, data-centred gate is not PReLU")


@check("zhou2017deep/loss",
       tex=r"L = -\frac{1}{N} \sum_{(\mathbf{x}, y) \in \mathcal{S}} \left( y \log p(\mathbf{x}) + (1 - y) \log\left(1 - p(\mathbf{x})\right) \right)",
       evaluates=True)
def check_loss_against_bce():
    """S: N = 50 examples (x: (5,), y ∈ {0, 1}), p(x) = σ(uᵀx) a logistic model: the note's sum over S against
    F.binary_cross_entropy and F.binary_cross_entropy_with_logits on the logits."""
    g = seed(4)
    N = 50
    X, u = randn(g, N, 5), randn(g, 5)
    y = (torch.rand(N, generator=g) < 0.4).to(f64).to(device())
    # L = −1/N Σ_{(x, y) ∈ S} (y log p(x) + (1 − y) log(1 − p(x)))
    L = evaluate("zhou2017deep/loss", S=list(zip(X, y)), p=lambda x: torch.sigmoid(x @ u), N=N)
    close(L, F.binary_cross_entropy(torch.sigmoid(X @ u), y), "negative log-likelihood against F.binary_cross_entropy")
    close(L, F.binary_cross_entropy_with_logits(X @ u, y), "against F.binary_cross_entropy_with_logits")


def auc_by_pairs(scores, labels):
    """Fraction of (positive, negative) pairs ordered correctly, ties count ½."""
    pos, neg = scores[labels == 1], scores[labels == 0]
    diff = pos[:, None] - neg[None, :]
    return ((diff > 0).to(f64) + 0.5 * (diff == 0).to(f64)).mean()


def auc_by_ranks(scores, labels):
    """Mann–Whitney: (sum of positive ranks − n⁺(n⁺+1)/2) / (n⁺ n⁻), scores without ties."""
    ranks = torch.empty_like(scores)
    ranks[scores.argsort()] = torch.arange(1, len(scores) + 1, dtype=f64)
    n_pos, n_neg = int(labels.sum()), int((1 - labels).sum())
    return (ranks[labels == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


@check("zhou2017deep/gauc",
       tex=r"\mathrm{GAUC} = \frac{\sum_{i=1}^{n} \#\mathrm{impression}_i \times \mathrm{AUC}_i}{\sum_{i=1}^{n} \#\mathrm{impression}_i}",
       evaluates=True)
def check_gauc_is_impression_weighted_user_auc():
    """Four users with 6..30 impressions each; per-user AUC by pair counting (checked against ranks),
    GAUC against numpy.average with impression weights, and against the global AUC (they differ)."""
    g = seed(5)
    aucs, impressions, all_scores, all_labels = [], [], [], []
    for user, count in enumerate((6, 10, 17, 30)):
        labels = torch.zeros(count, dtype=f64)
        labels[torch.randperm(count, generator=g)[: max(2, count // 3)]] = 1
        scores = torch.randn(count, generator=g, dtype=f64) + labels * 0.8 + user * 0.7
        close(auc_by_pairs(scores, labels), auc_by_ranks(scores, labels), f"AUC of user {user}: pairs vs ranks")
        aucs.append(auc_by_pairs(scores, labels))
        impressions.append(float(count))
        all_scores.append(scores)
        all_labels.append(labels)
    AUC, impression = torch.stack(aucs), torch.tensor(impressions, dtype=f64)
    # GAUC = Σ_i #impression_i × AUC_i / Σ_i #impression_i, from the note's LaTeX
    gauc = evaluate_with("zhou2017deep/gauc", {"#impression": impression, "AUC": AUC, "n": len(AUC)})
    close(gauc, float(np.average(AUC.numpy(), weights=impression.numpy())), "GAUC against numpy.average")
    close(gauc, AUC.repeat_interleave(impression.long()).mean(), "GAUC against the mean over impressions of their user's AUC")
    differs(gauc, auc_by_pairs(torch.cat(all_scores), torch.cat(all_labels)), "GAUC is not the AUC of the pooled impressions")


@check("zhou2017deep/relaimpr",
       tex=r"\mathrm{RelaImpr} = \frac{\mathrm{AUC}_{measured} - 0.5}{\mathrm{AUC}_{base} - 0.5} - 1",
       evaluates=True)
def check_relaimpr_closed_form():
    """Base AUC 0.70 and measured 0.72: the lift above chance goes from 0.20 to 0.22, i.e. +10%; a model
    equal to the base gives 0; a random model gives −100%."""
    measured = torch.tensor([0.72, 0.70, 0.50], dtype=f64)
    relaimpr = evaluate("zhou2017deep/relaimpr", AUC_measured=measured, AUC_base=0.70)
    close(relaimpr, torch.tensor([0.10, 0.0, -1.0], dtype=f64), "RelaImpr for measured AUC 0.72, 0.70, 0.50 over base 0.70")


if __name__ == "__main__":
    run_checks(__name__)
