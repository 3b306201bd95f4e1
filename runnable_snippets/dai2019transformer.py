"""Checks for notes/dai2019transformer.md: segment-level recurrence with stopped gradients, the four-term
absolute and relative attention scores, the grouped form the code computes, and the relative-shift trick.

References: F.scaled_dot_product_attention over the concatenated sequence (causal), autograd, the
unexpanded products (E + U)ᵀ W_qᵀ W_k (E + U) and (W_q E + u)ᵀ W_k,E E + (W_q E + v)ᵀ W_k,R R computed
directly, and explicit per-pair indexing for the shift.
"""
import math

import torch
import torch.nn.functional as F

from harness import check, close, device, differs, evaluate_with, run_checks, seed

f64 = torch.float64


def randn(g, *shape):
    return torch.randn(*shape, generator=g, dtype=f64).to(device())


def sinusoid(offsets, d):
    """R_k for integer offsets k: [sin(k ω_l), cos(k ω_l)], ω_l = 10000^(−2l/d); (len(offsets), d)."""
    omega = 10000.0 ** (-torch.arange(0, d, 2, dtype=f64, device=device()) / d)
    angle = offsets.to(f64)[:, None] * omega[None, :]
    return torch.cat([angle.sin(), angle.cos()], dim=-1)


@check("dai2019transformer/cache",
       tex=r"\tilde h_{\tau+1}^{n-1} = \left[\operatorname{SG}\left(h_{\tau}^{n-1}\right) \circ h_{\tau+1}^{n-1}\right]",
       evaluates=True)
@check("dai2019transformer/qkv",
       tex=r"q_{\tau+1}^{n} = h_{\tau+1}^{n-1} W_q^\top, \quad k_{\tau+1}^{n} = \tilde h_{\tau+1}^{n-1} W_k^\top, \quad v_{\tau+1}^{n} = \tilde h_{\tau+1}^{n-1} W_v^\top",
       evaluates=True)
def check_segment_recurrence():
    """Segments of L = 6 tokens, d = 8. Attention of segment τ+1's queries over [SG(h_τ) ∘ h_{τ+1}] with a
    causal mask equals rows L..2L−1 of causal F.scaled_dot_product_attention over the 12-token sequence (q, k, v
    evaluated from the note's LaTeX, h^{n−1}_{τ+1} and h~^{n−1}_{τ+1} passed under their labelled names);
    no gradient reaches h_τ (without SG it would)."""
    L, d = 6, 8
    g = seed(0)
    h_prev = randn(g, L, d).requires_grad_(True)
    h_cur = randn(g, L, d).requires_grad_(True)
    W_q, W_k, W_v = randn(g, d, d), randn(g, d, d), randn(g, d, d)

    def layer(memory, SG):
        # h~_{τ+1} = [SG(h_τ) ∘ h_{τ+1}], from the note's LaTeX (∘ joins along the length axis)
        h_tilde = evaluate_with("dai2019transformer/cache", {"h_tau^n-1": memory, "h_tau+1^n-1": h_cur, "SG": SG})
        # q^n_{τ+1} = h^{n−1}_{τ+1} W_qᵀ, k^n_{τ+1} = h~^{n−1}_{τ+1} W_kᵀ, v^n_{τ+1} = h~^{n−1}_{τ+1} W_vᵀ (the note's three clauses)
        names = {"h_tau+1^n-1": h_cur, "htilde_tau+1^n-1": h_tilde, "W_q": W_q, "W_k": W_k, "W_v": W_v}
        q, k, v = (evaluate_with("dai2019transformer/qkv", names, clause=c) for c in range(3))
        allowed = torch.ones(L, 2 * L, dtype=torch.bool, device=device()).tril(diagonal=L)   # j ≤ L + i
        logits = (q @ k.T / math.sqrt(d)).masked_fill(~allowed, float("-inf"))
        return torch.softmax(logits, -1) @ v

    out = layer(h_prev, SG=torch.Tensor.detach)
    full = torch.cat([h_prev, h_cur], dim=0)
    reference = F.scaled_dot_product_attention(full @ W_q.T, full @ W_k.T, full @ W_v.T, is_causal=True)[L:]
    close(out, reference, "cached segment vs attention over the concatenated sequence")
    grad_prev, grad_cur = torch.autograd.grad(out.sum(), [h_prev, h_cur], allow_unused=True)
    close(torch.zeros(L, d, dtype=f64) if grad_prev is None else grad_prev, torch.zeros(L, d, dtype=f64),
          "no gradient into the cached segment")
    (grad_without_sg,) = torch.autograd.grad(layer(h_prev, SG=lambda h: h).sum(), [h_prev])
    differs(grad_without_sg, torch.zeros_like(grad_without_sg), "without SG the memory would get gradients")
    differs(grad_cur, torch.zeros_like(grad_cur), "the current segment gets gradients")


@check("dai2019transformer/abs-score",
       tex=r"\mathbf{A}^{abs}_{i,j} = \underbrace{E_{x_i}^\top W_q^\top W_k E_{x_j}}_{(a)} + \underbrace{E_{x_i}^\top W_q^\top W_k U_j}_{(b)} + \underbrace{U_i^\top W_q^\top W_k E_{x_j}}_{(c)} + \underbrace{U_i^\top W_q^\top W_k U_j}_{(d)}",
       evaluates=True)
def check_absolute_score_expansion():
    """n = 10 tokens, d = 16, d_k = 8: the four terms summed against (E_{x_i} + U_i)ᵀ W_qᵀ W_k (E_{x_j} + U_j),
    i.e. the logits q_i·k_j of standard attention on embeddings plus absolute positions."""
    n, d, d_k, vocab = 10, 16, 8, 50
    g = seed(1)
    E_table, U = randn(g, vocab, d), sinusoid(torch.arange(n, device=device()), d)
    x = torch.randint(vocab, (n,), generator=g).to(device())
    W_q, W_k = randn(g, d_k, d), randn(g, d_k, d)
    E = E_table[x]                                                      # rows E_{x_i}
    M = W_q.T @ W_k                                                     # W_qᵀ W_k, (d, d)
    a, b = E @ M @ E.T, E @ M @ U.T
    c, dd = U @ M @ E.T, U @ M @ U.T
    # A^abs = (a) + (b) + (c) + (d)
    A_abs = a + b + c + dd
    q, k = (E + U) @ W_q.T, (E + U) @ W_k.T
    close(A_abs, q @ k.T, "four-term sum vs (E + U)ᵀ W_qᵀ W_k (E + U)")
    # A^abs_{i,j} = (a) + (b) + (c) + (d), evaluated from the note's LaTeX pair by pair (tokens and positions from 0)
    A_note = torch.stack([torch.stack([
        evaluate_with("dai2019transformer/abs-score", {"E": E_table, "x": x, "U": U, "W_q": W_q, "W_k": W_k, "i": i, "j": j},
                      index_base=0) for j in range(n)]) for i in range(n)])
    close(A_note, q @ k.T, "A^abs from the note's LaTeX vs the logits q_i·k_j of attention on E + U")


def relative_terms(g, n, d, d_k, vocab=50):
    E_table = randn(g, vocab, d)
    x = torch.randint(vocab, (n,), generator=g).to(device())
    W_q, W_kE, W_kR = randn(g, d_k, d), randn(g, d_k, d), randn(g, d_k, d)
    u, v = randn(g, d_k), randn(g, d_k)
    return E_table[x], W_q, W_kE, W_kR, u, v


@check("dai2019transformer/rel-score",
       tex=r"\mathbf{A}^{rel}_{i,j} = \underbrace{E_{x_i}^\top W_q^\top W_{k,E} E_{x_j}}_{(a)} + \underbrace{E_{x_i}^\top W_q^\top W_{k,R} R_{i-j}}_{(b)} + \underbrace{u^\top W_{k,E} E_{x_j}}_{(c)} + \underbrace{v^\top W_{k,R} R_{i-j}}_{(d)}",
       evaluates=True)
@check("dai2019transformer/rel-score-grouped",
       tex=r"\mathbf{A}^{rel}_{i,j} = \left(W_q E_{x_i} + u\right)^\top W_{k,E} E_{x_j} + \left(W_q E_{x_i} + v\right)^\top W_{k,R} R_{i-j}",
       evaluates=True)
def check_relative_score():
    """n = 9, d = 16, d_k = 8. The four terms, each computed pair by pair with R_{i−j}, against the grouped
    form computed with matrix products; the relative score is unchanged when every position is shifted by
    s = 5 (the absolute one is not)."""
    n, d, d_k = 9, 16, 8
    g = seed(2)
    E, W_q, W_kE, W_kR, u, v = relative_terms(g, n, d, d_k)
    i, j = torch.arange(n, device=device())[:, None], torch.arange(n, device=device())[None, :]
    R_ij = sinusoid((i - j).flatten(), d).view(n, n, d)                # R_{i−j} for every pair
    # (a) + (b) + (c) + (d), term by term
    a = torch.einsum("id,kd,kf,jf->ij", E, W_q, W_kE, E)
    b = torch.einsum("id,kd,kf,ijf->ij", E, W_q, W_kR, R_ij)
    c = torch.einsum("k,kf,jf->j", u, W_kE, E)[None, :].expand(n, n)
    dd = torch.einsum("k,kf,ijf->ij", v, W_kR, R_ij)
    A_rel = a + b + c + dd
    # (W_q E_{x_i} + u)ᵀ W_k,E E_{x_j} + (W_q E_{x_i} + v)ᵀ W_k,R R_{i−j}
    q = E @ W_q.T
    grouped = (q + u) @ (E @ W_kE.T).T + torch.einsum("ik,ijk->ij", q + v, R_ij @ W_kR.T)
    close(A_rel, grouped, "four terms vs grouped form")
    # A^rel_{i,j} = (a) + (b) + (c) + (d), evaluated from the note's LaTeX for the causal pairs j ≤ i (R_{i−j}, i − j ≥ 0)
    R = sinusoid(torch.arange(n, device=device()), d)
    causal = [(a_, b_) for a_ in range(n) for b_ in range(a_ + 1)]
    four_terms = torch.stack([evaluate_with("dai2019transformer/rel-score",
                                            {"E_x_i": E[a_], "E_x_j": E[b_], "W_q": W_q, "W_k,E": W_kE, "W_k,R": W_kR,
                                             "u": u, "v": v, "R": R, "i": a_, "j": b_}, index_base=0) for a_, b_ in causal])
    close(four_terms, torch.stack([grouped[a_, b_] for a_, b_ in causal]), "A^rel's four terms from the note vs the grouped form")
    # the grouped form as the note writes it, evaluated pair by pair (E_{x_i}: the embedding of token i)
    A_note = torch.stack([torch.stack([
        evaluate_with("dai2019transformer/rel-score-grouped",
                      {"W_q": W_q, "E_x_i": E[a], "E_x_j": E[b], "u": u, "v": v, "W_k,E": W_kE, "W_k,R": W_kR,
                       "R_i-j": R_ij[a, b]}) for b in range(n)]) for a in range(n)])
    close(A_note, A_rel, "grouped form evaluated from the note vs the four terms")
    # shift all positions by s: offsets i − j, hence A^rel, do not change; absolute encodings do
    s = 5
    R_shifted = sinusoid(((i + s) - (j + s)).flatten(), d).view(n, n, d)
    close(torch.einsum("ik,ijk->ij", q + v, R_shifted @ W_kR.T) + (q + u) @ (E @ W_kE.T).T, grouped,
          "A^rel is invariant to a common shift")
    U, U_s = sinusoid(torch.arange(n, device=device()), d), sinusoid(torch.arange(n, device=device()) + s, d)
    differs(((E + U) @ W_q.T) @ ((E + U) @ W_kE.T).T, ((E + U_s) @ W_q.T) @ ((E + U_s) @ W_kE.T).T,
            "A^abs changes under the shift")


def rel_shift(x):
    """The released code's trick for x: (L, M+L): pad a zero column, view as (M+L+1, L), drop row 0."""
    L, K = x.shape
    padded = torch.cat([torch.zeros(L, 1, dtype=x.dtype, device=x.device), x], dim=1)
    return padded.view(K + 1, L)[1:].reshape(L, K)


@check("dai2019transformer/rel-shift", tex=r"B_{i,j} = \tilde B_{i,\, j + L - 1 - i}", evaluates=True)
def check_relative_shift():
    """L = 5 queries, M = 7 memory keys, d = 16, d_k = 8. B~_{i,c} = (q_i + v)ᵀ W_k,R R_{M+L−1−c} from one
    matrix product; the pad-and-view trick and the note's index formula both equal the direct
    (q_i + v)ᵀ W_k,R R_{M+i−j} on every unmasked pair j ≤ M + i."""
    L, M, d, d_k = 5, 7, 16, 8
    K = M + L
    g = seed(3)
    q, v, W_kR = randn(g, L, d_k), randn(g, d_k), randn(g, d_k, d)
    offsets = torch.arange(K - 1, -1, -1, device=device())            # M+L−1, ..., 0
    B_tilde = (q + v) @ (sinusoid(offsets, d) @ W_kR.T).T             # (L, M+L)
    i, j = torch.arange(L, device=device())[:, None], torch.arange(K, device=device())[None, :]
    valid = j <= M + i
    direct = torch.einsum("ik,ijk->ij", q + v, sinusoid((M + i - j).flatten(), d).view(L, K, d) @ W_kR.T)
    # B_{i,j} = B~_{i, j + L − 1 − i}
    column = (j + L - 1 - i).clamp(max=K - 1)
    indexed = B_tilde.gather(1, column.expand(L, K))
    close(indexed[valid], direct[valid], "index formula vs direct definition")
    # the note's formula itself, evaluated at every unmasked pair (indices counted from 0, as the code does)
    B = torch.stack([evaluate_with("dai2019transformer/rel-shift", {"Btilde": B_tilde, "L": L, "i": a, "j": b}, index_base=0)
                     for a in range(L) for b in range(K) if b <= M + a])
    close(B, direct[valid], "B_{i,j} evaluated from the note vs direct definition")
    close(rel_shift(B_tilde)[valid], direct[valid], "pad-and-view trick vs direct definition")
    close(valid.sum(), L * M + L * (L + 1) // 2, "number of unmasked pairs", rtol=0, atol=0)


if __name__ == "__main__":
    run_checks(__name__)
