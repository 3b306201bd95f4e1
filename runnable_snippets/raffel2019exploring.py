"""Checks for notes/raffel2019exploring.md: T5's RMS-style norm and pre-norm block, the blog's post-LN
misstatement, relative-position-bias attention and its bucket function, span-corruption lengths, greedy
decoding, and the parameter counts of the five model sizes.

References: nn.RMSNorm, nn.TransformerEncoderLayer(norm_first=True, bias=False) with RMSNorm norms,
F.scaled_dot_product_attention with an additive float mask, a brute-force integer definition of the
buckets, a span-corruption sampler whose output is inverted back to the original text, beam search with
beam width 1, and modules built on device="meta".
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

from harness import check, close, device, differs, evaluate, run_checks, seed

f64 = torch.float64
meta = torch.device("meta")


def randn(g, *shape):
    return torch.randn(*shape, generator=g, dtype=f64).to(device())


def rms_norm(x, g, eps=1e-6):
    """x: (..., d), g: (d,)."""
    # RMSNorm(x) = x / sqrt(1/d Σ x_i² + ε) ⊙ g
    return x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps) * g


@check("raffel2019exploring/rmsnorm",
       tex=r"\operatorname{RMSNorm}(x) = \frac{x}{\sqrt{\frac{1}{d} \sum_{i=1}^{d} x_i^2 + \epsilon}} \odot g",
       evaluates=True)
def check_rmsnorm():
    """x: (3, 5, 16): the note's formula, evaluated on each of the 15 vectors x ∈ R^16, against
    nn.RMSNorm(16, eps=1e-6) with a random gain; unlike nn.LayerNorm it keeps the mean (a constant shift of x
    is not removed)."""
    d = 16
    g = seed(0)
    x, gain = randn(g, 3, 5, d) + 0.7, 1 + 0.1 * randn(g, d)
    norm = nn.RMSNorm(d, eps=1e-6, dtype=f64, device=device())
    with torch.no_grad():
        norm.weight.copy_(gain)
        # RMSNorm(x) = x / sqrt((1/d) Σ_{i=1}^{d} x_i² + ε) ⊙ g, one vector at a time
        rows = [evaluate("raffel2019exploring/rmsnorm", x=row, d=d, epsilon=1e-6, g=gain) for row in x.reshape(-1, d)]
        close(torch.stack(rows).reshape(x.shape), norm(x), "RMSNorm(x)")
        differs(rms_norm(x, gain), F.layer_norm(x, (d,), gain, None, 1e-6), "RMSNorm vs LayerNorm (mean subtracted)")


def t5_layer(d, heads, d_ff, seed_value):
    """nn.TransformerEncoderLayer, pre-norm, no biases, ReLU, its two LayerNorms replaced by RMSNorm."""
    seed(seed_value)
    layer = nn.TransformerEncoderLayer(d, heads, d_ff, dropout=0.0, activation="relu", batch_first=True,
                                       norm_first=True, bias=False, dtype=f64, device=device())
    layer.norm1 = nn.RMSNorm(d, eps=1e-6, dtype=f64, device=device())
    layer.norm2 = nn.RMSNorm(d, eps=1e-6, dtype=f64, device=device())
    with torch.no_grad():
        for norm in (layer.norm1, layer.norm2):
            norm.weight.copy_(1 + 0.1 * randn(seed(seed_value + 1), d))
    return layer


@check("raffel2019exploring/block-attention", tex=r"y = x + \operatorname{SelfAttn}\left(\operatorname{RMSNorm}(x)\right)",
       evaluates=True)
@check("raffel2019exploring/block-ffn", tex=r"z = y + \operatorname{FFN}\left(\operatorname{RMSNorm}(y)\right)", evaluates=True)
@check("raffel2019exploring/misstatement-post-ln",
       tex=r"F^l = \operatorname{LayerNorm}\left(H^l + \operatorname{FFN}(H^l)\right)")
def check_pre_norm_block():
    """x: (2, 9, 32), 4 heads, d_ff = 64. The note's two equations against nn.TransformerEncoderLayer
    (norm_first=True, bias=False, RMSNorm norms); the blog's post-LN block with the same weights differs."""
    d, heads, d_ff = 32, 4, 64
    layer = t5_layer(d, heads, d_ff, 1)
    x = randn(seed(3), 2, 9, d)

    def self_attn(u):
        return layer.self_attn(u, u, u, need_weights=False)[0]

    def ffn(u):
        return layer.linear2(F.relu(layer.linear1(u)))

    g1, g2 = layer.norm1.weight, layer.norm2.weight
    with torch.no_grad():
        # y = x + SelfAttn(RMSNorm(x))
        y = evaluate("raffel2019exploring/block-attention", x=x, SelfAttn=self_attn, RMSNorm=layer.norm1)
        # z = y + FFN(RMSNorm(y))
        z = evaluate("raffel2019exploring/block-ffn", y=y, FFN=ffn, RMSNorm=layer.norm2)
        close(z, layer(x), "pre-norm T5 block vs nn.TransformerEncoderLayer(norm_first=True)")
        # H^l = LayerNorm(H^{l-1} + A^l);  F^l = LayerNorm(H^l + FFN(H^l))  (blog, post-LN)
        H = F.layer_norm(x + self_attn(x), (d,), g1, None)
        F_l = F.layer_norm(H + ffn(H), (d,), g2, None)
        differs(F_l, z, "post-LN block vs T5's pre-norm block, same weights")


def bucket(delta, num_buckets=32, max_distance=128):
    """The note's formula, vectorised: delta = j − i (key minus query), any integer tensor."""
    half = num_buckets // 2                               # 16 per direction
    exact = half // 2                                     # 8 offsets with their own bucket
    n = delta.abs()
    # min(15, 8 + ⌊8 ln(|δ|/8) / ln(128/8)⌋) for |δ| ≥ 8
    log_part = exact + (torch.log(n.clamp(min=1).double() / exact) / math.log(max_distance / exact)
                        * (half - exact)).floor().long()
    within = torch.where(n < exact, n, log_part.clamp(max=half - 1))
    # bucket(δ) = 16·1[δ > 0] + ...
    return half * (delta > 0).long() + within


def bucket_brute_force(delta):
    """Integer definition: |δ| < 8 → |δ|; else 8 + the largest k ≤ 7 with |δ| ≥ 8·2^{k/2} (i.e. δ² ≥ 64·2^k)."""
    out = []
    for d in delta.tolist():
        n = abs(d)
        if n < 8:
            b = n
        else:
            b = 8 + max(k for k in range(8) if n * n >= 64 * 2 ** k)
        out.append(b + (16 if d > 0 else 0))
    return torch.tensor(out)


@check("raffel2019exploring/bucket",
       tex=r"\operatorname{bucket}(\delta) = 16 \cdot \mathbb{1}[\delta > 0] + \begin{cases} |\delta| & |\delta| < 8 \\ \min\left(15,\; 8 + \left\lfloor 8 \, \frac{\ln(|\delta| / 8)}{\ln(128 / 8)} \right\rfloor\right) & \text{otherwise} \end{cases}",
       evaluates=True)
def check_bucket_against_brute_force():
    """δ = −1000 … 1000: the note's formula, evaluated, and its vectorised transcription against the integer
    definition; the note's boundaries 8, 12, 16, 23, 32,
    46, 64, 91 (first offset of buckets 8 … 15); every bucket but 16 is used."""
    delta = torch.arange(-1000, 1001)
    b = bucket(delta)
    reference = bucket_brute_force(delta)
    close(evaluate("raffel2019exploring/bucket", delta=delta), reference, "bucket(δ), the note's formula, vs brute force",
          rtol=0, atol=0)
    close(b, reference, "bucket(δ) vectorised vs brute force", rtol=0, atol=0)
    starts = [int(delta[(b == k) & (delta < 0)].abs().min()) for k in range(8, 16)]
    close(torch.tensor(starts), torch.tensor([8, 12, 16, 23, 32, 46, 64, 91]), "first |δ| of buckets 8..15",
          rtol=0, atol=0)
    # bucket 16 would be δ = +0, which cannot occur: the encoder uses 31 of its 32 buckets
    close(torch.unique(b), torch.tensor([k for k in range(32) if k != 16]), "buckets used", rtol=0, atol=0)


@check("raffel2019exploring/relative-attention",
       tex=r"\alpha_{ij} = \operatorname{softmax}_j\left(q_i^\top k_j + b_h\left(\operatorname{bucket}(j - i)\right)\right)",
       evaluates=True)
def check_relative_attention():
    """q, k, v: (2, 4, 50, 8) (batch, heads, positions, d_kv), bias tables b: (32, 4). Hand-written softmax
    with the bucketed bias and no 1/sqrt(d_kv) against F.scaled_dot_product_attention(attn_mask=bias,
    scale=1); the bias matrix depends only on j − i."""
    B, h, n, d_kv = 2, 4, 50, 8
    g = seed(4)
    q, k, v, tables = randn(g, B, h, n, d_kv), randn(g, B, h, n, d_kv), randn(g, B, h, n, d_kv), randn(g, 32, h)
    i = torch.arange(n)[:, None]
    j = torch.arange(n)[None, :]
    bias = tables[bucket(j - i).to(device())].permute(2, 0, 1)          # (h, n, n): b_h(bucket(j − i))
    # α_ij = softmax_j(q_i^T k_j + b_h(bucket(j − i)))
    logits = q @ k.transpose(-2, -1) + bias
    alpha = torch.softmax(logits, dim=-1)
    reference = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, scale=1.0)
    close(alpha @ v, reference, "attention with bias")
    for b_, h_, i_ in ((0, 0, 1), (1, 3, 25), (0, 2, 50)):           # a few queries, evaluated from the note
        # α_ij = softmax_j(q_iᵀ k_j + b_h(bucket(j − i))), the vector over j for query i (from 1)
        alpha_i = evaluate("raffel2019exploring/relative-attention", q=q[b_, h_], k=k[b_, h_], i=i_,
                           b_h=lambda buckets, h_=h_: tables[buckets.long(), h_], bucket=lambda d: bucket(d.long()))
        close(alpha_i @ v[b_, h_], reference[b_, h_, i_ - 1], f"α_i· v for query {i_} of head {h_}")
    close(bias[:, 1:, 1:], bias[:, :-1, :-1], "bias is Toeplitz (depends only on j − i)")


def span_corrupt(tokens, r, mu, g, first_sentinel=10_000):
    """T5-style span corruption of a 1-D id list. Returns (input ids, target ids, noise mask)."""
    n = len(tokens)
    m = round(r * n)                                       # m = round(r n)
    K = max(1, round(m / mu))                              # K = round(m / μ)

    def segment(total, parts):                             # random split of `total` into `parts` ≥ 1
        cuts = torch.randperm(total - 1, generator=g)[:parts - 1].sort().values + 1
        edges = torch.cat([torch.tensor([0]), cuts, torch.tensor([total])])
        return (edges[1:] - edges[:-1]).tolist()

    noise_lengths, keep_lengths = segment(m, K), segment(n - m, K)
    mask, pos = torch.zeros(n, dtype=torch.bool), 0
    for keep, noise in zip(keep_lengths, noise_lengths):  # keep, noise, keep, noise, ...
        pos += keep
        mask[pos:pos + noise] = True
        pos += noise
    inputs, targets, sentinel = [], [], first_sentinel
    for t in range(n):
        if mask[t]:
            if t == 0 or not mask[t - 1]:                  # a span starts: one sentinel in both
                inputs.append(sentinel)
                targets.append(sentinel)
                sentinel += 1
            targets.append(tokens[t])
        else:
            inputs.append(tokens[t])
    return inputs, targets, mask


def uncorrupt(inputs, targets, first_sentinel=10_000):
    """Rebuild the original sequence: each sentinel in the input is replaced by its span from the target."""
    spans, current = {}, None
    for t in targets:
        if t >= first_sentinel:
            current = t
            spans[current] = []
        else:
            spans[current].append(t)
    out = []
    for t in inputs:
        out.extend(spans[t] if t >= first_sentinel else [t])
    return out


@check("raffel2019exploring/input-length", tex=r"|x_{\text{in}}| = n - m + K", evaluates=True)
@check("raffel2019exploring/target-length", tex=r"|x_{\text{tgt}}| = m + K", evaluates=True)
def check_span_corruption_lengths():
    """n = 512, r = 0.15, μ = 3 (m = 77, K = 26), 10 random corruptions: exact input and target lengths from
    the note's formulas, spans of mean length m/K ≈ 3, and input + target decode back to the original."""
    n, r, mu = 512, 0.15, 3
    m, K = round(r * n), round(round(r * n) / mu)
    close(torch.tensor([m, K]), torch.tensor([77, 26]), "m and K for n = 512", rtol=0, atol=0)
    g = seed(5)
    for trial in range(10):
        tokens = torch.randint(5, 9000, (n,), generator=g).tolist()
        inputs, targets, mask = span_corrupt(tokens, r, mu, g)
        spans = int((mask[1:] & ~mask[:-1]).sum() + mask[0])
        close(len(inputs), evaluate("raffel2019exploring/input-length", n=n, m=m, K=K), "input length", rtol=0, atol=0)
        close(len(targets), evaluate("raffel2019exploring/target-length", m=m, K=K), "target length", rtol=0, atol=0)
        close(spans, K, "number of spans", rtol=0, atol=0)
        close(float(mask.sum()) / spans, m / K, "mean span length m/K", rtol=0, atol=1e-12)
        close(torch.tensor(uncorrupt(inputs, targets)), torch.tensor(tokens), "input + target rebuild the text",
              rtol=0, atol=0)
    close(evaluate("raffel2019exploring/input-length", n=n, m=m, K=K), 461, "note: 461 input tokens", rtol=0, atol=0)
    close(evaluate("raffel2019exploring/target-length", m=m, K=K), 103, "note: 103 target tokens", rtol=0, atol=0)
    close(103 / n, 0.2, "target ≈ 20% of n", rtol=0, atol=0.005)


@check("raffel2019exploring/greedy", tex=r"\hat y_t = \arg\max_{v \in \mathcal{V}} p_\theta\left(v \mid \hat y_{<t}, x\right)",
       evaluates=True)
def check_greedy_is_beam_width_one():
    """A toy conditional LM (GRU cell over the prefix, initial state from x), |V| = 11, 12 steps. Greedy
    argmax decoding equals beam search with width 1; width 4 finds a sequence at least as likely."""
    vocab, hidden, T = 11, 16, 12
    seed(6)
    embed = nn.Embedding(vocab, hidden, dtype=f64)
    cell = nn.GRUCell(hidden, hidden, dtype=f64)
    out = nn.Linear(hidden, vocab, dtype=f64)
    x_state = torch.randn(hidden, generator=seed(7), dtype=f64)      # encoding of the input x

    def step(state, token):
        state = cell(embed(torch.tensor([token]))[0][None], state[None])[0]
        return state, torch.log_softmax(out(state), -1)

    def beam_search(width):
        beams = [(0.0, [0], x_state)]                   # (log-prob, tokens with BOS = 0, state)
        for _ in range(T):
            candidates = []
            for score, tokens, state in beams:
                new_state, logp = step(state, tokens[-1])
                for v in range(vocab):
                    candidates.append((score + float(logp[v]), tokens + [v], new_state))
            beams = sorted(candidates, key=lambda c: -c[0])[:width]
        return beams[0]

    def p_theta(v, y_before, x):                     # p_θ(v | ŷ_<t, x): the GRU from x's state over BOS, ŷ_<t alone
        state = x
        for token in [0] + list(y_before):
            state, logp = step(state, int(token))
        return logp[v.long()].exp()

    with torch.no_grad():
        tokens, state, total = [0], x_state, 0.0
        for t in range(1, T + 1):
            state, logp = step(state, tokens[-1])
            # ŷ_t = argmax_{v ∈ V} p_θ(v | ŷ_<t, x)
            y_t = evaluate("raffel2019exploring/greedy", yhat=tokens[1:], t=t, x=x_state, V=list(range(vocab)),
                           p_theta=p_theta)
            close(y_t, logp.argmax(), f"ŷ_{t} vs the argmax of the model's incremental step", rtol=0, atol=0)
            tokens.append(int(y_t))
            total += float(logp[int(y_t)])
        score_1, tokens_1, _ = beam_search(1)
        score_4, _, _ = beam_search(4)
    close(torch.tensor(tokens), torch.tensor(tokens_1), "greedy tokens vs beam width 1", rtol=0, atol=0)
    close(total, score_1, "greedy log-probability vs beam width 1")
    close(min(0.0, score_4 - total), 0.0, "beam width 4 is at least as likely as greedy", rtol=0, atol=1e-12)


def t5_count(L, d_model, d_ff, h, d_kv, V=32000):
    """Parameters of T5 with tied embeddings and no biases, built on the meta device."""
    inner = h * d_kv

    def linear(a, b):
        return nn.Linear(a, b, bias=False, device=meta)

    def attention():
        return [linear(d_model, inner), linear(d_model, inner), linear(d_model, inner), linear(inner, d_model)]

    def ffn():
        return [linear(d_model, d_ff), linear(d_ff, d_model)]

    def norms(count):
        return [nn.RMSNorm(d_model, device=meta) for _ in range(count)]

    modules = [nn.Embedding(V, d_model, _weight=torch.empty(V, d_model, device=meta))]       # shared, tied
    for _ in range(L):
        modules += attention() + ffn() + norms(2)                                          # encoder block
        modules += attention() + attention() + ffn() + norms(3)                            # decoder block
    modules += norms(2) + [nn.Embedding(32, h, _weight=torch.empty(32, h, device=meta)) for _ in range(2)]
    return sum(p.numel() for mod in modules for p in mod.parameters())


@check("raffel2019exploring/param-count",
       tex=r"P = V \cdot d_{model} + L \cdot \left(4 \cdot d_{model} \cdot d_{kv} \cdot h + 2 \cdot d_{model} \cdot d_{ff} + 2 \cdot d_{model}\right) + L \cdot \left(8 \cdot d_{model} \cdot d_{kv} \cdot h + 2 \cdot d_{model} \cdot d_{ff} + 3 \cdot d_{model}\right) + 2 \cdot d_{model} + 64 \cdot h",
       evaluates=True)
def check_model_sizes():
    """The five sizes of the paper: the note's formula against modules built on the meta device, and the
    table's rounded counts (60.4M, 222.8M, 737.5M, 2.85B, 11.31B)."""
    sizes = {"Small": (6, 512, 2048, 8, 64, 60.4e6, 1e5), "Base": (12, 768, 3072, 12, 64, 222.8e6, 1e5),
             "Large": (24, 1024, 4096, 16, 64, 737.5e6, 1e5), "3B": (24, 1024, 16384, 32, 128, 2.85e9, 1e7),
             "11B": (24, 1024, 65536, 128, 128, 11.31e9, 1e7)}
    for name, (L, d_model, d_ff, h, d_kv, stated, unit) in sizes.items():
        counted = t5_count(L, d_model, d_ff, h, d_kv)
        P = evaluate("raffel2019exploring/param-count", V=32000, L=L, d_model=d_model, d_ff=d_ff, h=h, d_kv=d_kv)
        close(P, counted, f"T5-{name}: formula vs modules", rtol=0, atol=0)
        close(round(counted / unit) * unit, stated, f"T5-{name} ≈ {stated:.4g} (note's table)", rtol=1e-9, atol=0)


if __name__ == "__main__":
    run_checks(__name__)
