"""Checks for notes/zaheer2020big.md: full attention, BigBird's neighbourhoods (window + random + global),
the per-query shorthand softmax(Q K_BBᵀ/√d) V_BB, the multi-head generalised attention with its residual,
and the O(n) count of attended pairs.

References: F.scaled_dot_product_attention (unmasked, and with a boolean attn_mask built from the
neighbourhoods), a per-query gather of the neighbours' keys and values, and n² for full attention.
"""
import math

import torch
import torch.nn.functional as F

from harness import check, close, device, differs, evaluate, figure, run_checks, seed

f64 = torch.float64


def randn(g, *shape):
    return torch.randn(*shape, generator=g, dtype=f64).to(device())


def bigbird_mask(n, w, r, g_tokens, gen):
    """Boolean (n, n) mask, True where j ∈ N(i): window |i − j| ≤ w/2, r random keys per query (drawn with
    replacement), the first g_tokens tokens global (ITC); global rows attend to everything."""
    mask = torch.zeros(n, n, dtype=torch.bool)
    for offset in range(-(w // 2), w // 2 + 1):                        # {j : |i − j| ≤ w/2}
        mask.diagonal(offset).fill_(True)
    random_keys = torch.randint(n, (n, r), generator=gen)              # R(i)
    mask[torch.arange(n)[:, None], random_keys] = True
    mask[:, :g_tokens] = True                                          # ∪ G
    mask[:g_tokens, :] = True                                          # i ∈ G: N(i) = {1, ..., n}
    return mask, random_keys


def neighbours(i, n, w, random_keys, g_tokens):
    """N(i) as a sorted list, built from the note's set definition."""
    if i < g_tokens:
        return list(range(n))
    window = {j for j in range(n) if abs(i - j) <= w // 2}
    return sorted(window | set(random_keys[i].tolist()) | set(range(g_tokens)))


@check("zaheer2020big/full-attention", tex=r"A = \operatorname{softmax}\left(\frac{Q K^\top}{\sqrt{d}}\right) V", evaluates=True)
def check_full_attention():
    """Q, K, V: (3, 40, 16): the formula against F.scaled_dot_product_attention."""
    g = seed(0)
    Q, K, V = randn(g, 3, 40, 16), randn(g, 3, 40, 16), randn(g, 3, 40, 16)
    # A = softmax(Q Kᵀ / √d) V, from the note's LaTeX (softmax over the last axis, built in)
    A = evaluate("zaheer2020big/full-attention", Q=Q, K=K, V=V, d=16)
    close(A, F.scaled_dot_product_attention(Q, K, V), "softmax(QKᵀ/√d)V")


@check("zaheer2020big/neighbourhood",
       tex=r"N(i) = \begin{cases} \{1, \ldots, n\} & i \in G \\ \left\{j : |i - j| \le w/2\right\} \cup R(i) \cup G & i \notin G \end{cases}")
@check("zaheer2020big/bigbird-shorthand",
       tex=r"A = \operatorname{softmax}\left(\frac{Q K_{\text{BB}}^\top}{\sqrt{d}}\right) V_{\text{BB}}", evaluates=True)
def check_sparse_attention_equals_masked_dense():
    """n = 64, w = 6, r = 3, g = 2, d = 16. Per query i: K_BB, V_BB = rows N(i) of K, V (from the set
    definition), softmax(q_i K_BBᵀ/√d) V_BB; against F.scaled_dot_product_attention with the boolean mask.
    The mask's rows equal the sets N(i); a dense (unmasked) attention gives a different result."""
    n, w, r, g_tokens, d = 64, 6, 3, 2, 16
    g = seed(1)
    mask, random_keys = bigbird_mask(n, w, r, g_tokens, g)
    Q, K, V = randn(g, n, d), randn(g, n, d), randn(g, n, d)
    rows = []
    for i in range(n):
        N_i = neighbours(i, n, w, random_keys, g_tokens)
        if i % 16 == 0 or i < g_tokens:
            close(mask[i].nonzero().flatten(), torch.tensor(N_i), f"mask row {i} = N({i})", rtol=0, atol=0)
        # A_i = softmax(q_i K_BBᵀ / √d) V_BB, from the note's LaTeX with Q the query row i
        rows.append(evaluate("zaheer2020big/bigbird-shorthand", Q=Q[i], K_BB=K[N_i], V_BB=V[N_i], d=d))
    A = torch.stack(rows)
    masked = F.scaled_dot_product_attention(Q, K, V, attn_mask=mask.to(device()))
    close(A, masked, "per-query gather vs SDPA(attn_mask)")
    differs(A, F.scaled_dot_product_attention(Q, K, V), "sparse vs full attention")


@check("zaheer2020big/generalized-attention",
       tex=r"\operatorname{ATTN}_D(X)_i = x_i + \sum_{h=1}^{H} \sigma\left(Q_h(x_i)\, K_h\left(X_{N(i)}\right)^\top\right) \cdot V_h\left(X_{N(i)}\right)")
def check_generalized_attention():
    """X: (48, 16), H = 4 heads with Q_h, K_h: 16 → 8 and V_h: 16 → 16, σ = softmax with 1/√8 scaling.
    The per-query sum over heads plus the residual against x_i + Σ_h SDPA_h(attn_mask); summing the heads'
    outputs equals concatenating them and applying a stacked output projection."""
    n, d, m, H, w, r, g_tokens = 48, 16, 8, 4, 4, 2, 3
    g = seed(2)
    mask, random_keys = bigbird_mask(n, w, r, g_tokens, g)
    X = randn(g, n, d)
    W_Q, W_K, W_V = randn(g, H, d, m), randn(g, H, d, m), randn(g, H, d, d)
    out = []
    for i in range(n):
        N_i = neighbours(i, n, w, random_keys, g_tokens)
        total = X[i].clone()
        for h in range(H):
            # σ(Q_h(x_i) K_h(X_N(i))ᵀ) · V_h(X_N(i))
            weights = torch.softmax((X[i] @ W_Q[h]) @ (X[N_i] @ W_K[h]).T / math.sqrt(m), -1)
            total = total + weights @ (X[N_i] @ W_V[h])
        out.append(total)
    ATTN = torch.stack(out)
    per_head = F.scaled_dot_product_attention(X @ W_Q, X @ W_K, X @ W_V, attn_mask=mask.to(device()))   # (H, n, d)
    close(ATTN, X + per_head.sum(0), "x_i + Σ_h head_h")
    # Σ_h head_h = Concat(head_1, ..., head_H) [I; I; ...; I]
    stacked_identity = torch.eye(d, dtype=f64, device=device()).repeat(H, 1)
    close(ATTN, X + torch.cat(list(per_head), dim=-1) @ stacked_identity, "sum of heads as concat + projection")


@check("zaheer2020big/neighbourhood",
       tex=r"N(i) = \begin{cases} \{1, \ldots, n\} & i \in G \\ \left\{j : |i - j| \le w/2\right\} \cup R(i) \cup G & i \notin G \end{cases}")
def check_attended_pairs_linear():
    """w = 6, r = 3, g = 2, n = 256 ... 4096: the mask's pair count stays below n (w + 1 + r + 2g) and is a
    vanishing fraction of n² (full attention); pairs per token are the same for every n up to 2%."""
    w, r, g_tokens = 6, 3, 2
    ns = [256, 512, 1024, 2048, 4096]
    counts = []
    for n in ns:
        mask, _ = bigbird_mask(n, w, r, g_tokens, seed(3))
        counts.append(int(mask.count_nonzero()))
    counts_t, ns_t = torch.tensor(counts, dtype=f64), torch.tensor(ns, dtype=f64)
    bound = ns_t * (w + 1 + r + 2 * g_tokens)
    close((counts_t - bound).clamp(min=0), torch.zeros(len(ns), dtype=f64), "pairs ≤ n (w + 1 + r + 2g)")
    per_token_without_global_rows = (counts_t - g_tokens * ns_t) / (ns_t - g_tokens)
    close(per_token_without_global_rows, per_token_without_global_rows.mean().expand(len(ns)), "constant per token",
          rtol=0.02, atol=0)
    close((counts_t / ns_t ** 2 - 0.06).clamp(min=0), torch.zeros(len(ns), dtype=f64), "tiny fraction of n² (≤ 6%)")
    figure("attended-pairs", [
        {"type": "scatter", "name": "full attention (n²)", "x": ns_t, "y": ns_t ** 2},
        {"type": "scatter", "name": "BigBird (w = 6, r = 3, g = 2)", "x": ns_t, "y": counts_t},
    ], {"xaxis": {"title": {"text": "sequence length n"}, "type": "log"},
        "yaxis": {"title": {"text": "attended (query, key) pairs"}, "type": "log", "exponentformat": "e"},
        "height": 320, "margin": {"l": 70, "r": 10, "t": 10, "b": 50}})


if __name__ == "__main__":
    run_checks(__name__)
