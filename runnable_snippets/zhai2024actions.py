"""Checks for notes/zhai2024actions.md (HSTU): the three sub-layers of a Hierarchical Sequential
Transduction Unit, and the softmax attention it replaces.

References: a token-by-token brute-force HSTU (scalar SiLU as x·sigmoid(x), explicit double loop over
query/key pairs, hand-written layer norm) against the vectorised block built from nn.Linear, F.silu,
torch.split and F.layer_norm; F.scaled_dot_product_attention for the softmax form; and the
closed-form response of both attentions to a repeated event (the "intensity" argument), drawn as a chart.
"""
import math

import torch
import torch.nn.functional as F

from harness import check, close, device, differs, evaluate_with, figure, run_checks, seed

n, d, d_qk, d_v = 6, 8, 4, 5          # sequence length, model width, query/key width, value/gate width
num_buckets = 4



def parameters(g):
    """Weights of one HSTU block and of its relative attention bias (float64)."""
    def r(*shape):
        return torch.randn(*shape, generator=g, dtype=torch.float64).to(device())
    return {"W1": r(2 * d_v + 2 * d_qk, d) / math.sqrt(d), "b1": r(2 * d_v + 2 * d_qk) * 0.1,
            "W2": r(d, d_v) / math.sqrt(d_v), "b2": r(d) * 0.1,
            "w_p": r(2 * n - 1) * 0.3, "w_t": r(num_buckets) * 0.3}


def bucket(dt):
    """Time-gap bucket: ⌊log2(1 + |Δt|)⌋ clipped to the table."""
    return min(int(math.log2(1 + abs(dt))), num_buckets - 1)


def hstu_block(X, timestamps, P):
    """X: (n, d), timestamps: (n,) -> Y: (n, d), vectorised with torch's own ops."""
    f1 = torch.nn.Linear(d, 2 * d_v + 2 * d_qk, dtype=torch.float64).to(device())
    f2 = torch.nn.Linear(d_v, d, dtype=torch.float64).to(device())
    with torch.no_grad():
        f1.weight.copy_(P["W1"]); f1.bias.copy_(P["b1"]); f2.weight.copy_(P["W2"]); f2.bias.copy_(P["b2"])
    # U, V, Q, K = Split(φ1(f1(X)))
    U, V, Q, K = torch.split(F.silu(f1(X)), [d_v, d_v, d_qk, d_qk], dim=-1)
    i, j = torch.meshgrid(torch.arange(n), torch.arange(n), indexing="ij")
    gaps = (timestamps[:, None] - timestamps[None, :]).abs()
    rab = P["w_p"][(i - j + n - 1).to(device())] + P["w_t"][torch.clamp(torch.log2(1 + gaps).floor().long(), max=num_buckets - 1)]
    # A(X)V(X) = φ2(Q Kᵀ + rab^{p,t}) V
    AV = F.silu(Q @ K.T + rab) @ V
    # Y = f2(Norm(A(X)V(X)) ⊙ U(X))
    return f2(F.layer_norm(AV, (d_v,)) * U), (U, V, Q, K, AV, rab, f2)


def hstu_brute_force(X, timestamps, P):
    """The same block, one scalar at a time: SiLU as x·sigmoid(x), a double loop over (i, j), and layer
    norm from its definition (biased variance, ε = 1e-5)."""
    def silu(x):
        return x / (1 + math.exp(-x))
    X, ts = X.tolist(), timestamps.tolist()
    W1, b1, W2, b2 = (P[k].tolist() for k in ("W1", "b1", "W2", "b2"))
    w_p, w_t = P["w_p"].tolist(), P["w_t"].tolist()
    H = [[silu(sum(W1[o][c] * X[t][c] for c in range(d)) + b1[o]) for o in range(len(b1))] for t in range(n)]
    U = [h[:d_v] for h in H]
    V = [h[d_v:2 * d_v] for h in H]
    Q = [h[2 * d_v:2 * d_v + d_qk] for h in H]
    K = [h[2 * d_v + d_qk:] for h in H]
    Y = []
    for a in range(n):
        av = [0.0] * d_v
        for b in range(n):
            score = sum(Q[a][c] * K[b][c] for c in range(d_qk)) + w_p[a - b + n - 1] + w_t[bucket(ts[a] - ts[b])]
            av = [av[c] + silu(score) * V[b][c] for c in range(d_v)]
        mean = sum(av) / d_v
        var = sum((x - mean) ** 2 for x in av) / d_v
        normed = [(x - mean) / math.sqrt(var + 1e-5) for x in av]
        gated = [normed[c] * U[a][c] for c in range(d_v)]
        Y.append([sum(W2[o][c] * gated[c] for c in range(d_v)) + b2[o] for o in range(d)])
    return torch.tensor(Y, dtype=torch.float64, device=device()), torch.tensor(U, dtype=torch.float64, device=device())


@check("zhai2024actions/hstu-projection", tex=r"U(X), V(X), Q(X), K(X) = \operatorname{Split}\left(\phi_1\left(f_1(X)\right)\right)", evaluates=True)
@check("zhai2024actions/hstu-attention", tex=r"A(X)V(X) = \phi_2\left(Q(X)K(X)^{\top} + \mathrm{rab}^{p,t}\right)V(X)",
       evaluates=True)
@check("zhai2024actions/hstu-output", tex=r"Y(X) = f_2\left(\operatorname{Norm}\left(A(X)V(X)\right) \odot U(X)\right)", evaluates=True)
def check_hstu_block_against_brute_force():
    """Vectorised HSTU block (nn.Linear, F.silu, torch.split, F.layer_norm) against a scalar brute force
    with positional and time-bucket relative attention bias; Norm against nn.LayerNorm."""
    g = seed(0)
    P = parameters(g)
    X = torch.randn(n, d, generator=g, dtype=torch.float64).to(device())
    timestamps = torch.tensor([0, 3, 4, 20, 21, 90], dtype=torch.float64, device=device())
    Y, (U, V, Q, K, AV, rab, f2) = hstu_block(X, timestamps, P)
    Y_ref, U_ref = hstu_brute_force(X, timestamps, P)
    close(U, U_ref, "gate U(X) from Split(φ1(f1(X))) against the scalar computation")
    close(Y, Y_ref, "Y(X) against the token-by-token brute force")
    of_X = {"X": X, "U": lambda X: U, "V": lambda X: V}
    # Y(X) = f2(Norm(A(X)V(X)) ⊙ U(X)), evaluated from the note: A(X) the pointwise weights, Norm = nn.LayerNorm
    layer_norm = torch.nn.LayerNorm(d_v, elementwise_affine=False, dtype=torch.float64).to(device())
    weights = F.silu(Q @ K.T + rab)
    Y_note = evaluate_with("zhai2024actions/hstu-output", {**of_X, "A": lambda X: weights, "Norm": layer_norm, "f_2": f2})
    close(Y_note, Y_ref, "the note's Y(X) against the token-by-token brute force")
    close(F.layer_norm(AV, (d_v,)), layer_norm(AV), "Norm against nn.LayerNorm")
    # U(X), V(X), Q(X), K(X) = Split(φ1(f1(X))), evaluated from the note with f1 the block's nn.Linear
    f1 = torch.nn.Linear(d, 2 * d_v + 2 * d_qk, dtype=torch.float64).to(device())
    with torch.no_grad():
        f1.weight.copy_(P["W1"]); f1.bias.copy_(P["b1"])
    U_n, V_n, Q_n, K_n = evaluate_with("zhai2024actions/hstu-projection", {
        "X": X, "f_1": f1, "phi_1": F.silu, "Split": lambda h: torch.split(h, [d_v, d_v, d_qk, d_qk], dim=-1)})
    close(U_n, U_ref, "the note's U(X) against the scalar computation")
    # A(X)V(X) = φ2(Q(X)K(X)ᵀ + rab^{p,t}) V(X), evaluated from the note on the note's U, V, Q, K; Y against the brute force
    AV_note = evaluate_with("zhai2024actions/hstu-attention", {"X": X, "Q": lambda X: Q_n, "K": lambda X: K_n,
                                                              "V": lambda X: V_n, "phi_2": F.silu, "rab^p,t": rab})
    close(f2(layer_norm(AV_note) * U_n), Y_ref, "Y(X) through the note's projection and A(X)V(X) against the token-by-token brute force")


@check("zhai2024actions/softmax-attention",
       tex=r"A(X)V(X) = \operatorname{softmax}\left(\frac{Q(X)K(X)^{\top}}{\sqrt{d}}\right)V(X)", evaluates=True)
@check("zhai2024actions/hstu-attention", tex=r"A(X)V(X) = \phi_2\left(Q(X)K(X)^{\top} + \mathrm{rab}^{p,t}\right)V(X)")
def check_softmax_form_and_how_hstu_differs():
    """The softmax form equals F.scaled_dot_product_attention (d = query width); its rows of weights sum
    to 1, HSTU's SiLU weights do not, and the two outputs differ."""
    g = seed(1)
    Q, K = (torch.randn(n, d_qk, generator=g, dtype=torch.float64).to(device()) for _ in range(2))
    V = torch.randn(n, d_v, generator=g, dtype=torch.float64).to(device())
    # A(X)V(X) = softmax(Q(X)K(X)ᵀ / √d) V(X), evaluated from the note (d: the query width, row-wise softmax)
    attention = evaluate_with("zhai2024actions/softmax-attention", {
        "X": torch.arange(n), "Q": lambda X: Q, "K": lambda X: K, "V": lambda X: V, "d": d_qk, "softmax": lambda z: torch.softmax(z, -1)})
    close(attention, F.scaled_dot_product_attention(Q[None], K[None], V[None])[0], "the note's softmax attention against SDPA")
    weights = torch.softmax(Q @ K.T / math.sqrt(d_qk), dim=-1)
    close(weights.sum(-1), torch.ones(n, dtype=torch.float64, device=device()), "softmax rows sum to 1")
    silu_weights = F.silu(Q @ K.T)
    differs(silu_weights.sum(-1), torch.ones(n, dtype=torch.float64, device=device()), "SiLU rows are not normalised")
    differs(silu_weights @ V, weights @ V, "pointwise SiLU attention vs softmax attention")


@check("zhai2024actions/hstu-attention", tex=r"A(X)V(X) = \phi_2\left(Q(X)K(X)^{\top} + \mathrm{rab}^{p,t}\right)V(X)")
@check("zhai2024actions/softmax-attention",
       tex=r"A(X)V(X) = \operatorname{softmax}\left(\frac{Q(X)K(X)^{\top}}{\sqrt{d}}\right)V(X)")
def check_intensity_of_a_repeated_event():
    """History = 3 unrelated events + m copies of one relevant event (key k*, value v*). HSTU's output
    for a query grows exactly linearly: out(m) = out(0) + m·SiLU(q·k*)·v*. Softmax output (via SDPA)
    is a convex combination: it stays within the largest value norm and tends to v* as m grows."""
    g = seed(2)
    q = torch.randn(1, d_qk, generator=g, dtype=torch.float64).to(device())
    K_other = torch.randn(3, d_qk, generator=g, dtype=torch.float64).to(device())
    V_other = torch.randn(3, d_v, generator=g, dtype=torch.float64).to(device())
    k_star = q[0] / q[0].norm() * 3.0                       # relevant: aligned with the query
    v_star = torch.randn(d_v, generator=g, dtype=torch.float64).to(device())
    ms = list(range(0, 31))
    pointwise, softmax = [], []
    for m in ms:
        K = torch.cat([K_other, k_star.expand(m, d_qk)])
        V = torch.cat([V_other, v_star.expand(m, d_v)])
        pointwise.append((F.silu(q @ K.T) @ V)[0])          # φ2(q Kᵀ) V, no rab
        softmax.append(F.scaled_dot_product_attention(q[None], K[None], V[None])[0, 0])
    pointwise, softmax = torch.stack(pointwise), torch.stack(softmax)
    m_t = torch.tensor(ms, dtype=torch.float64, device=device())
    slope = F.silu(q[0] @ k_star) * v_star
    close(pointwise, pointwise[0] + m_t[:, None] * slope, "HSTU output grows linearly in the repeat count")
    bound = torch.cat([V_other, v_star[None]]).norm(dim=-1).max()
    close(torch.clamp(softmax.norm(dim=-1) - bound, min=0), torch.zeros(len(ms), dtype=torch.float64, device=device()),
          "softmax output stays inside the values' convex hull (norm bound)")
    close(softmax[-1], v_star, "softmax output tends to v* (≈ mean, not sum)", atol=0.05, rtol=0)
    along = v_star / v_star.norm()
    figure("intensity", [
        {"type": "scatter", "name": "HSTU: SiLU, без нормировки", "x": ms, "y": pointwise @ along},
        {"type": "scatter", "name": "softmax-внимание", "x": ms, "y": softmax @ along, "line": {"dash": "dash"}},
    ], {"xaxis": {"title": {"text": "сколько раз повторено релевантное событие, m"}},
        "yaxis": {"title": {"text": "проекция выхода на v*"}},
        "height": 320, "margin": {"l": 60, "r": 10, "t": 10, "b": 50}})


if __name__ == "__main__":
    run_checks(__name__)
