"""Checks for notes/wang2017deep.md: DCN's embedding, cross layer (and its misstatement), parameter
count, deep layer, combination unit and log loss.

References: F.embedding for the one-hot product, the explicit d×d outer product x_0 x_lᵀ for the
O(d) cross layer, finite differences for the polynomial degree of a cross network, a cross network built
from nn.Linear / nn.Parameter on the meta device for the parameter count, nn.Linear + nn.ReLU,
and F.binary_cross_entropy for the log loss.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

from harness import check, close, device, differs, evaluate, evaluate_with, run_checks, seed

f64 = torch.float64


def randn(g, *shape):
    return torch.randn(*shape, generator=g, dtype=f64).to(device())


def cross_layer(x_0, x_l, w_l, b_l):
    """x_0, x_l: (batch, d); w_l, b_l: (d,) -> x_{l+1}: (batch, d), in O(d) per example."""
    # x_{l+1} = x_0 x_lᵀ w_l + b_l + x_l, computed as x_0 · (x_lᵀ w_l): no d×d matrix
    return x_0 * (x_l @ w_l)[:, None] + b_l + x_l


def cross_network(x_0, ws, bs):
    x = x_0
    for w_l, b_l in zip(ws, bs):
        x = cross_layer(x_0, x, w_l, b_l)
    return x


@check("wang2017deep/embedding", tex=r"\mathbf{x}_{\mathrm{embed},i} = W_{\mathrm{embed},i}\, \mathbf{x}_i", evaluates=True)
def check_embedding_is_a_lookup():
    """W_embed: (n_e, n_v) times a one-hot x_i: (n_v,) equals F.embedding's row lookup; a multi-hot x_i
    gives the sum of the looked-up rows."""
    g = seed(0)
    n_v, n_e = 11, 4
    W_embed = randn(g, n_e, n_v)
    ids = torch.tensor([0, 3, 10, 3], device=device())
    x_i = F.one_hot(ids, n_v).to(f64)                                # (batch, n_v)
    # x_embed,i = W_embed,i x_i, evaluated from the note with the batch of one-hot vectors as columns
    x_embed = evaluate_with("wang2017deep/embedding", {"W_embed,i": W_embed, "x_i": x_i.T}).T
    close(x_embed, F.embedding(ids, W_embed.T), "the note's W_embed x_i against F.embedding")
    multi_hot = x_i[0] + x_i[1]
    close(W_embed @ multi_hot, F.embedding(ids[:2], W_embed.T).sum(0), "multi-hot x_i sums its embeddings")


@check("wang2017deep/cross-layer",
       tex=r"\mathbf{x}_{l+1} = \mathbf{x}_0 \mathbf{x}_l^\top \mathbf{w}_l + \mathbf{b}_l + \mathbf{x}_l", evaluates=True)
def check_cross_layer_against_outer_product_and_degree():
    """(1) The O(d) form equals the explicit (d×d outer product) @ w_l, batch of 5, d = 8.
    (2) A cross network of L layers is a polynomial of degree L+1 in x_0: along the ray t·x_0 the
    (L+2)-th finite difference vanishes and the (L+1)-th does not."""
    g = seed(1)
    d = 8
    x_0, x_l = randn(g, 5, d), randn(g, 5, d)
    w_l, b_l = randn(g, d), randn(g, d)
    outer = torch.einsum("bi,bj->bij", x_0, x_l)                      # x_0 x_lᵀ: (batch, d, d)
    explicit = outer @ w_l + b_l + x_l
    # x_{l+1} = x_0 x_lᵀ w_l + b_l + x_l, evaluated from the note per example, vectors as (d, 1) columns
    for b in range(5):
        column = {"x_0": x_0[b, :, None], "x_l": x_l[b, :, None], "w_l": w_l[:, None], "b_l": b_l[:, None]}
        close(evaluate("wang2017deep/cross-layer", **column)[:, 0], torch.einsum("i,j,j->i", x_0[b], x_l[b], w_l) + b_l + x_l[b],
              f"the note's cross layer, example {b}, against einsum(x_0, x_l, w_l) + b_l + x_l")
    close(cross_layer(x_0, x_l, w_l, b_l), explicit, "x_0 (x_lᵀ w_l) + b_l + x_l against the d×d outer product")

    x_0 = randn(g, 1, d)
    for L in (1, 2, 3):
        ws, bs = [randn(g, d) for _ in range(L)], [randn(g, d) for _ in range(L)]
        values = torch.stack([cross_network(t * x_0, ws, bs)[0] for t in range(L + 3)])   # t = 0 .. L+2

        def finite_difference(order):
            return sum((-1) ** (order - k) * math.comb(order, k) * values[k] for k in range(order + 1))

        scale = values.abs().max()
        close(finite_difference(L + 2) / scale, torch.zeros(d, dtype=f64, device=device()),
              f"(L+2)-th difference of {L} cross layers vanishes (degree ≤ L+1)", atol=1e-10)
        differs(finite_difference(L + 1) / scale, torch.zeros(d, dtype=f64), f"(L+1)-th difference of {L} layers is non-zero (degree = L+1)")


@check("wang2017deep/misstatement-bias-inside",
       tex=r"\mathbf{x}_{l+1} = \mathbf{x}_0 \odot \left(\mathbf{x}_l^\top \mathbf{w}_l + \mathbf{b}_l\right) + \mathbf{x}_l", evaluates=True)
def check_bias_inside_differs():
    """The bias-inside form adds x_0 ⊙ b_l instead of b_l: different whenever b_l ≠ 0, equal when b_l = 0."""
    g = seed(2)
    d = 8
    x_0, x_l, w_l, b_l = randn(g, 5, d), randn(g, 5, d), randn(g, d), randn(g, d)
    # x_{l+1} = x_0 ⊙ (x_lᵀ w_l + b_l) + x_l   (misstated), evaluated from the note per example as columns
    wrong = torch.stack([evaluate("wang2017deep/misstatement-bias-inside", x_0=x_0[b, :, None], x_l=x_l[b, :, None],
                                  w_l=w_l[:, None], b_l=b_l[:, None])[:, 0] for b in range(5)])
    close(wrong, torch.addcmul(x_l, x_0, (x_l @ w_l)[:, None] + b_l), "the misstated form against torch.addcmul(x_l, x_0, x_lᵀw_l + b_l)")
    right = cross_layer(x_0, x_l, w_l, b_l)
    differs(wrong, right, "bias inside vs outside the product with x_0")
    close(wrong - right, x_0 * b_l - b_l, "the gap is exactly x_0 ⊙ b_l − b_l")


@check("wang2017deep/cross-parameters", tex=r"N_{\mathrm{cross}} = 2 \cdot d \cdot L_c", evaluates=True)
def check_cross_parameter_count():
    """Count the parameters of a cross network built from modules on the meta device (nothing allocated):
    w_l as nn.Linear(d, 1, bias=False), b_l as an nn.Parameter of size d."""
    for d, L_c in ((8, 1), (1026, 6), (4096, 3)):
        with torch.device("meta"):
            layers = nn.ModuleList(nn.ModuleDict({"w": nn.Linear(d, 1, bias=False)}) for _ in range(L_c))
            biases = nn.ParameterList(nn.Parameter(torch.empty(d)) for _ in range(L_c))
        counted = sum(p.numel() for p in layers.parameters()) + sum(p.numel() for p in biases)
        close(evaluate("wang2017deep/cross-parameters", d=d, L_c=L_c), counted, f"2 d L_c for d={d}, L_c={L_c}")
    with torch.device("meta"):
        dnn_layer = nn.Linear(1026, 1026)
    differs(sum(p.numel() for p in dnn_layer.parameters()), 2 * 1026, "one DNN layer of width d has d² + d, not 2d")


@check("wang2017deep/deep-layer",
       tex=r"\mathbf{h}_{l+1} = \operatorname{ReLU}\left(W_l \mathbf{h}_l + \mathbf{b}_l\right)", evaluates=True)
def check_deep_layer_against_nn_linear():
    g = seed(3)
    n_l, n_next = 10, 6
    layer = nn.Sequential(nn.Linear(n_l, n_next), nn.ReLU()).to(device(), f64)
    h_l = randn(g, 4, n_l)
    W_l, b_l = layer[0].weight, layer[0].bias
    # h_{l+1} = ReLU(W_l h_l + b_l), evaluated from the note with the batch as columns of h_l
    h_next = evaluate("wang2017deep/deep-layer", W_l=W_l, h_l=h_l.T, b_l=b_l[:, None], ReLU=torch.relu).T
    close(h_next, layer(h_l), "the note's ReLU(W_l h_l + b_l) against nn.Linear + nn.ReLU")


@check("wang2017deep/combination",
       tex=r"p = \sigma\left(\left[\mathbf{x}_{L_1}^\top, \mathbf{h}_{L_2}^\top\right] \mathbf{w}_{\mathrm{logits}}\right)",
       evaluates=True)
def check_combination_against_two_towers():
    """The logit of the concatenation equals the sum of the two towers' separate logits, and matches
    nn.Linear(bias=False) + torch.sigmoid."""
    g = seed(4)
    d, n_L2 = 8, 5
    x_0 = randn(g, 6, d)
    ws, bs = [randn(g, d) * 0.3 for _ in range(2)], [randn(g, d) * 0.3 for _ in range(2)]
    x_L1 = cross_network(x_0, ws, bs)
    h_L2 = randn(g, 6, n_L2)
    w_logits = randn(g, d + n_L2)
    # p = σ([x_L1ᵀ, h_L2ᵀ] w_logits), from the note's LaTeX for each example
    p = torch.stack([evaluate("wang2017deep/combination", x_L_1=x_k, h_L_2=h_k, w_logits=w_logits)
                     for x_k, h_k in zip(x_L1, h_L2)])
    separate = torch.sigmoid(x_L1 @ w_logits[:d] + h_L2 @ w_logits[d:])
    close(p, separate, "σ of the concatenation = σ(cross logit + deep logit)")
    head = nn.Linear(d + n_L2, 1, bias=False).to(device(), f64)
    with torch.no_grad():
        head.weight.copy_(w_logits[None])
    close(p, torch.sigmoid(head(torch.cat([x_L1, h_L2], -1)))[:, 0], "against nn.Linear(bias=False) + sigmoid")


@check("wang2017deep/logloss",
       tex=r"\mathrm{loss} = -\frac{1}{N} \sum_{i=1}^{N} \left[ y_i \log p_i + (1 - y_i) \log(1 - p_i) \right] + \lambda \sum_{l} \lVert \mathbf{w}_l \rVert^2", evaluates=True)
def check_logloss_against_bce():
    g = seed(5)
    N, d, L = 32, 8, 3
    p = torch.rand(N, generator=g, dtype=f64).to(device()) * 0.98 + 0.01
    y = (torch.rand(N, generator=g) < 0.3).to(f64).to(device())
    ws = [randn(g, d) for _ in range(L)]
    lam = 1e-3
    # loss = −1/N Σ_i [y_i log p_i + (1 − y_i) log(1 − p_i)] + λ Σ_l ‖w_l‖², evaluated from the note (w: rows w_l)
    loss = evaluate("wang2017deep/logloss", y=y, p=p, N=N, w=torch.stack(ws), **{"lambda": lam})
    reference = F.binary_cross_entropy(p, y) + lam * torch.stack([torch.linalg.vector_norm(w) ** 2 for w in ws]).sum()
    close(loss, reference, "log loss + L2 against F.binary_cross_entropy")


if __name__ == "__main__":
    run_checks(__name__)
