"""Checks for notes/kang2018self.md: SASRec's input embedding, causal self-attention, FFN, pre-LN block,
shared-embedding relevance score and BCE loss with one sampled negative, plus the two misstatements.

References: nn.Embedding for items and positions, F.scaled_dot_product_attention(is_causal=True) and
nn.MultiheadAttention with a causal mask, nn.TransformerEncoderLayer(norm_first=True) with SASRec's
weights copied in (eval mode), F.linear against the shared table, F.binary_cross_entropy_with_logits, and
autograd to show BCE and BPR give different gradients.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

from harness import check, close, device, differs, evaluate, evaluate_with, run_checks, seed

f64 = torch.float64
n_items, n, d = 30, 7, 8        # item vocabulary (0 = padding), sequence length, latent dimension


def randn(g, *shape, scale=1.0):
    return (torch.randn(*shape, generator=g, dtype=f64) * scale).to(device())


def causal_self_attention(E_hat, W_Q, W_K, W_V):
    """E_hat: (B, n, d) -> S: (B, n, d); logits of keys j > i are −∞."""
    Q, K, V = E_hat @ W_Q, E_hat @ W_K, E_hat @ W_V
    logits = Q @ K.transpose(-2, -1) / math.sqrt(d)
    future = torch.ones(n, n, dtype=torch.bool, device=E_hat.device).triu(1)
    logits = logits.masked_fill(future, float("-inf"))
    # S = softmax(Q Kᵀ / √d) V with Q = Ê W^Q, K = Ê W^K, V = Ê W^V
    return torch.softmax(logits, -1) @ V


def ffn(S, W_1, b_1, W_2, b_2):
    # F_i = ReLU(S_i W^(1) + b^(1)) W^(2) + b^(2)
    return torch.clamp_min(S @ W_1 + b_1, 0.0) @ W_2 + b_2


def layer_norm(x, eps=1e-5):
    return (x - x.mean(-1, keepdim=True)) / torch.sqrt(x.var(-1, unbiased=False, keepdim=True) + eps)


def sasrec_weights(g):
    return dict(W_Q=randn(g, d, d, scale=0.4), W_K=randn(g, d, d, scale=0.4), W_V=randn(g, d, d, scale=0.4),
                W_1=randn(g, d, d, scale=0.4), b_1=randn(g, d, scale=0.1), W_2=randn(g, d, d, scale=0.4), b_2=randn(g, d, scale=0.1))


def block(x, w):
    """One SASRec block, eval mode (Dropout = identity): g(x) = x + g(LayerNorm(x)) for attention, then FFN."""
    x = x + causal_self_attention(layer_norm(x), w["W_Q"], w["W_K"], w["W_V"])
    return x + ffn(layer_norm(x), w["W_1"], w["b_1"], w["W_2"], w["b_2"])


@check("kang2018self/input-embedding",
       tex=r"\widehat{E} = \begin{bmatrix} M_{s_1} + P_1 \\ M_{s_2} + P_2 \\ \vdots \\ M_{s_n} + P_n \end{bmatrix}",
       evaluates=True)
def check_input_embedding_against_nn_embedding():
    """Ê from the note's LaTeX (the \\vdots row: rows t = 3..n−1 by the pattern) equals
    nn.Embedding(items, padding_idx=0)(s) + nn.Embedding(n)(positions); a left-padded position contributes
    P_t only (the padding item is the zero vector)."""
    g = seed(0)
    items = nn.Embedding(n_items, d, padding_idx=0).to(device(), f64)
    positions = nn.Embedding(n, d).to(device(), f64)
    s = torch.tensor([[0, 0, 3, 17, 5, 3, 29]], device=device())        # left-padded with item 0
    M, P = items.weight, positions.weight
    # Ê = [M_{s_1} + P_1; M_{s_2} + P_2; ...; M_{s_n} + P_n]: positions t and rows counted from 1, so item id
    # s_t (0 is padding) is row s_t + 1 of M
    E_hat = evaluate("kang2018self/input-embedding", M=M.detach(), P=P.detach(), s=s[0] + 1, n=n)[None]
    close(E_hat, items(s) + positions(torch.arange(n, device=device()))[None], "Ê against nn.Embedding lookups")
    close(E_hat[0, :2], P[:2], "padding rows are P_t alone (zero item embedding)")


@check("kang2018self/self-attention",
       tex=r"\mathbf{S} = \operatorname{SA}(\widehat{E}) = \operatorname{Attention}\left(\widehat{E} W^Q, \widehat{E} W^K, \widehat{E} W^V\right), \quad \operatorname{Attention}(Q, K, V) = \operatorname{softmax}\left(\frac{Q K^\top}{\sqrt{d}}\right) V", evaluates=True)
def check_causal_attention_against_torch():
    """Against F.scaled_dot_product_attention(is_causal=True) and a one-head nn.MultiheadAttention (no bias,
    identity output projection) with a causal mask; changing later items never changes earlier outputs."""
    g = seed(1)
    w = sasrec_weights(g)
    E_hat = randn(g, 3, n, d)
    Q, K, V = E_hat @ w["W_Q"], E_hat @ w["W_K"], E_hat @ w["W_V"]
    # Attention(Q, K, V) = softmax(Q Kᵀ / √d) V, evaluated from the note (a batch of 3 sequences, no mask)
    attention = evaluate("kang2018self/self-attention", Q=Q, K=K, V=V, d=d,
                         softmax=lambda x: torch.softmax(x, -1))
    close(attention, F.scaled_dot_product_attention(Q, K, V), "the note's Attention(Q, K, V) against F.scaled_dot_product_attention")
    S = causal_self_attention(E_hat, w["W_Q"], w["W_K"], w["W_V"])
    reference = F.scaled_dot_product_attention(E_hat @ w["W_Q"], E_hat @ w["W_K"], E_hat @ w["W_V"], is_causal=True)
    close(S, reference, "causal SA against F.scaled_dot_product_attention(is_causal=True)")

    mha = nn.MultiheadAttention(d, num_heads=1, bias=False, batch_first=True).to(device(), f64)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([w["W_Q"].T, w["W_K"].T, w["W_V"].T]))
        mha.out_proj.weight.copy_(torch.eye(d, dtype=f64))
    future = torch.ones(n, n, dtype=torch.bool, device=device()).triu(1)
    close(S, mha(E_hat, E_hat, E_hat, attn_mask=future, need_weights=False)[0], "against nn.MultiheadAttention with a causal mask")

    changed = E_hat.clone()
    changed[:, 4:] = randn(g, 3, n - 4, d)
    S_changed = causal_self_attention(changed, w["W_Q"], w["W_K"], w["W_V"])
    close(S_changed[:, :4], S[:, :4], "outputs 1..4 do not see items 5..n")
    differs(S_changed[:, 4:], S[:, 4:], "outputs 5..n do")


@check("kang2018self/ffn",
       tex=r"\mathbf{F}_i = \operatorname{FFN}(\mathbf{S}_i) = \operatorname{ReLU}\left(\mathbf{S}_i W^{(1)} + \mathbf{b}^{(1)}\right) W^{(2)} + \mathbf{b}^{(2)}", evaluates=True)
def check_ffn_against_nn_linear():
    g = seed(2)
    net = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, d)).to(device(), f64)
    S = randn(g, 2, n, d)
    W_1, b_1, W_2, b_2 = net[0].weight.T, net[0].bias, net[2].weight.T, net[2].bias
    # F_i = ReLU(S_i W^(1) + b^(1)) W^(2) + b^(2), evaluated from the note for every position i at once (rows of S)
    F_note = evaluate_with("kang2018self/ffn", {"S_i": S, "W^(1)": W_1, "b^(1)": b_1, "W^(2)": W_2, "b^(2)": b_2,
                                                 "ReLU": torch.relu})
    close(F_note, net(S), "the note's FFN against nn.Linear-ReLU-nn.Linear, shared over positions")
    close(ffn(S, W_1, b_1, W_2, b_2), net(S), "the ffn() used by the blocks, against the same modules")


@check("kang2018self/block",
       tex=r"g(\mathbf{x}) = \mathbf{x} + \operatorname{Dropout}\left(g\left(\operatorname{LayerNorm}(\mathbf{x})\right)\right)", evaluates=True)
def check_block_against_pre_ln_transformer_layer():
    """Two stacked SASRec blocks (eval mode) against two nn.TransformerEncoderLayer(norm_first=True, nhead=1)
    with W^Q, W^K, W^V, W^(1), W^(2) copied in, zero attention biases and an identity output projection."""
    g = seed(3)
    blocks = [sasrec_weights(g) for _ in range(2)]
    x = randn(g, 2, n, d)
    future = torch.ones(n, n, dtype=torch.bool, device=device()).triu(1)
    reference = x
    for w in blocks:
        layer = nn.TransformerEncoderLayer(d, nhead=1, dim_feedforward=d, dropout=0.1, activation="relu",
                                           batch_first=True, norm_first=True, dtype=f64).to(device()).eval()
        with torch.no_grad():
            layer.self_attn.in_proj_weight.copy_(torch.cat([w["W_Q"].T, w["W_K"].T, w["W_V"].T]))
            layer.self_attn.in_proj_bias.zero_()
            layer.self_attn.out_proj.weight.copy_(torch.eye(d, dtype=f64))
            layer.self_attn.out_proj.bias.zero_()
            layer.linear1.weight.copy_(w["W_1"].T), layer.linear1.bias.copy_(w["b_1"])
            layer.linear2.weight.copy_(w["W_2"].T), layer.linear2.bias.copy_(w["b_2"])
        reference = layer(reference, src_mask=future)
    dropout = nn.Dropout(0.1).eval()                               # eval mode: the identity, as in the reference
    norm = nn.LayerNorm(d, dtype=f64).to(device())                   # weight 1, bias 0, ε = 1e-5 as in the layer
    ours = x
    for w in blocks:
        # g(x) = x + Dropout(g(LayerNorm(x))), evaluated from the note for the attention sub-layer, then the FFN
        for g_inner in (lambda h: causal_self_attention(h, w["W_Q"], w["W_K"], w["W_V"]),
                        lambda h: ffn(h, w["W_1"], w["b_1"], w["W_2"], w["b_2"])):
            ours = evaluate("kang2018self/block", x=ours, g=g_inner, Dropout=dropout, LayerNorm=norm)
    close(ours, reference, "two pre-LN blocks (the note's wrapper) against nn.TransformerEncoderLayer(norm_first=True)")
    hand = x
    for w in blocks:
        hand = block(hand, w)
    close(hand, reference, "the block() written out, against the same layers")


@check("kang2018self/relevance", tex=r"r_{i,t} = \mathbf{F}_t^{(b)} M_i^\top", evaluates=True)
def check_relevance_uses_the_shared_table():
    """r for all items and positions equals F.linear(F, M) with the input table M; scoring one item by hand agrees."""
    g = seed(4)
    M = randn(g, n_items, d)
    F_b = randn(g, 2, n, d)
    reference = F.linear(F_b, M)                                   # (2, n, items): every position against the table
    # r_{i,t} = F_t^{(b)} M_iᵀ, evaluated from the note for item i and position t (from 1) of user 2
    for i, t in ((1, 1), (18, 4), (30, 7)):
        # F_t and M_i are row vectors in the paper: passed as (1, d) rows
        r = evaluate_with("kang2018self/relevance", {"F_t^(b)": F_b[1, t - 1][None], "M_i": M[i - 1][None]})[0, 0]
        close(r, reference[1, t - 1, i - 1], f"r_(i={i}, t={t}) against F.linear with the shared item table")


def sampled_batch(g):
    """Sequences with left padding: positive o_t = s_{t+1}, one negative j ∉ S^u per position, padding mask."""
    s = torch.tensor([[0, 0, 3, 17, 5, 9, 2, 8], [4, 6, 1, 12, 7, 13, 22, 10]], device=device())
    inputs, targets = s[:, :-1], s[:, 1:]
    negatives = torch.empty_like(targets)
    for u in range(2):
        allowed = torch.tensor([j for j in range(1, n_items) if j not in set(s[u].tolist())])
        negatives[u] = allowed[torch.randint(len(allowed), (n,), generator=g)].to(device())
    return inputs, targets, negatives, (targets != 0)


@check("kang2018self/loss",
       tex=r"-\sum_{\mathcal{S}^u \in \mathcal{S}} \sum_{t \in [1, 2, \ldots, n]} \left[ \log\left(\sigma(r_{o_t, t})\right) + \log\left(1 - \sigma(r_{j, t})\right) \right]")
def check_loss_against_bce_with_logits():
    """With F: (2 users, n, d) and the shared table, the double sum over users and non-padding positions equals
    F.binary_cross_entropy_with_logits (targets 1 for o_t, 0 for the sampled j), summed."""
    g = seed(5)
    M = randn(g, n_items, d)
    F_b = randn(g, 2, n, d)
    _, targets, negatives, mask = sampled_batch(g)
    r_pos = (F_b * M[targets]).sum(-1)                       # r_{o_t, t}
    r_neg = (F_b * M[negatives]).sum(-1)                     # r_{j, t}
    terms = torch.log(torch.sigmoid(r_pos)) + torch.log(1 - torch.sigmoid(r_neg))
    loss = -(terms * mask).sum()
    bce = (F.binary_cross_entropy_with_logits(r_pos, torch.ones_like(r_pos), reduction="none")
           + F.binary_cross_entropy_with_logits(r_neg, torch.zeros_like(r_neg), reduction="none"))
    close(loss, (bce * mask).sum(), "SASRec loss against BCE with logits (padding ignored)")


@check("kang2018self/misstatement-attention",
       tex=r"A_{ij} = \frac{\exp\left(E_i^\top E_j / \sqrt{d}\right)}{\sum_{k=1}^{n} \exp\left(E_i^\top E_k / \sqrt{d}\right)}", evaluates=True)
def check_unprojected_full_attention_differs():
    """The misstated weights are F.softmax(E Eᵀ/√d) over all n keys: row i puts weight on j > i (future
    items), unlike SASRec's causal, projected attention."""
    g = seed(6)
    w = sasrec_weights(g)
    E = randn(g, n, d)
    # A_ij = exp(E_iᵀ E_j / √d) / Σ_{k=1}^{n} exp(E_iᵀ E_k / √d), evaluated from the note for every (i, j), from 1
    A = torch.stack([torch.stack([evaluate("kang2018self/misstatement-attention", E=E, i=i, j=j, n=n, d=d)
                                  for j in range(1, n + 1)]) for i in range(1, n + 1)])
    close(A, torch.softmax(E @ E.T / math.sqrt(d), -1), "the misstated form is a full softmax over E Eᵀ/√d")
    differs(A.triu(1).sum(-1)[:-1], torch.zeros(n - 1, dtype=f64), "it puts weight on future items")
    logits = (E @ w["W_Q"]) @ (E @ w["W_K"]).T / math.sqrt(d)
    causal = torch.softmax(logits.masked_fill(torch.ones(n, n, dtype=torch.bool, device=device()).triu(1), float("-inf")), -1)
    differs(A, causal, "and differs from SASRec's causal projected weights")


@check("kang2018self/misstatement-bpr", tex=r"\mathrm{BPR}(u, i, j) = -\ln \sigma\left(\hat{y}_{ui} - \hat{y}_{uj}\right)", evaluates=True)
def check_bpr_is_a_different_objective():
    """BPR = −log σ(r⁺ − r⁻) = softplus(r⁻ − r⁺) (F.softplus); it differs from SASRec's BCE in value and in
    gradient; and adding the same constant to both scores leaves BPR unchanged but not BCE."""
    g = seed(7)
    r_pos = randn(g, 2, n).requires_grad_(True)
    r_neg = randn(g, 2, n).requires_grad_(True)
    # BPR(u, i, j) = −ln σ(ŷ_ui − ŷ_uj), evaluated from the note with ŷ_ui = r⁺ and ŷ_uj = r⁻ (all users and positions)
    yhat = torch.stack([r_pos, r_neg])                                 # ŷ indexed by (u, item): u = 1, i = 1, j = 2
    bpr = evaluate("kang2018self/misstatement-bpr", yhat=yhat[None], u=1, i=1, j=2, sigma=torch.sigmoid)
    close(bpr, F.softplus(r_neg - r_pos), "the note's −ln σ(Δ) against F.softplus(−Δ)")
    bce = -(torch.log(torch.sigmoid(r_pos)) + torch.log(1 - torch.sigmoid(r_neg)))
    differs(bpr.sum(), bce.sum(), "BPR and SASRec's BCE give different loss values")
    g_bpr = torch.autograd.grad(bpr.sum(), r_pos)[0]
    g_bce = torch.autograd.grad(bce.sum(), r_pos)[0]
    differs(g_bpr, g_bce, "…and different gradients")
    shift = 3.0
    close(-torch.log(torch.sigmoid((r_pos + shift) - (r_neg + shift))), bpr, "BPR is shift-invariant")
    differs(-(torch.log(torch.sigmoid(r_pos + shift)) + torch.log(1 - torch.sigmoid(r_neg + shift))), bce, "BCE is not")


if __name__ == "__main__":
    run_checks(__name__)
