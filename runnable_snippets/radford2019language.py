"""Checks for notes/radford2019language.md: the LM factorisation, task conditioning as a prefix, the
next-token cross-entropy, causal attention, the pre-LN block, the scaled residual initialization and
the parameter counts of the four GPT-2 sizes.

References: a tiny GPT-2 (explicit Embedding / Linear / LayerNorm modules, tied output layer, final LayerNorm)
with each conditional recomputed from scratch on its prefix; brute-force sums over all continuations;
F.cross_entropy; F.scaled_dot_product_attention(is_causal=True); nn.TransformerEncoderLayer(norm_first=True);
a Monte-Carlo residual stream; and the four architectures built on device="meta".
"""
import itertools
import math

import torch
import torch.nn.functional as F
from torch import nn

from harness import check, close, device, differs, evaluate, evaluate_with, run_checks, seed

f64 = torch.float64
V, d, HEADS, N_LAYERS, N_CTX = 6, 16, 2, 2, 8
EOT = 0                                               # <|endoftext|>, the context every text starts from


def causal_attention(Q, K, V_):
    """Q, K, V: (..., n, d_k) -> (..., n, d_k), with M_ij = 0 for j ≤ i and −∞ for j > i."""
    n = Q.shape[-2]
    M = torch.zeros(n, n, dtype=Q.dtype, device=Q.device).masked_fill(
        torch.ones(n, n, dtype=torch.bool, device=Q.device).triu(1), float("-inf"))
    # Attention(Q, K, V) = softmax(QKᵀ/√d_k + M) V
    return torch.softmax(Q @ K.transpose(-2, -1) / math.sqrt(Q.shape[-1]) + M, dim=-1) @ V_


def gpt2_modules(vocab, n_ctx, width, n_layer, device_=None, dtype=None):
    """GPT-2 as explicit modules: token and position tables, per block LN_1, fused QKV and output projections,
    LN_2, MLP (width 4d), and the final LN. The output layer reuses the token table (tied)."""
    kw = dict(device=device_, dtype=dtype)
    tables = nn.ModuleDict(dict(wte=nn.Embedding.from_pretrained(torch.randn(vocab, width, **kw) * 0.3, freeze=False),
                                wpe=nn.Embedding.from_pretrained(torch.randn(n_ctx, width, **kw) * 0.3, freeze=False)))
    blocks = nn.ModuleList(nn.ModuleDict(dict(ln_1=nn.LayerNorm(width, **kw), c_attn=nn.Linear(width, 3 * width, **kw),
                                              c_proj=nn.Linear(width, width, **kw), ln_2=nn.LayerNorm(width, **kw),
                                              c_fc=nn.Linear(width, 4 * width, **kw), mlp_proj=nn.Linear(4 * width, width, **kw)))
                           for _ in range(n_layer))
    return tables, blocks, nn.LayerNorm(width, **kw)


def block_forward(b, x):
    """x: (B, n, d) -> (B, n, d): x' = x + Attn(LN_1(x)); y = x' + MLP(LN_2(x'))."""
    q, k, v = (t.unflatten(-1, (HEADS, -1)).transpose(1, 2) for t in b["c_attn"](b["ln_1"](x)).chunk(3, -1))
    x = x + b["c_proj"](causal_attention(q, k, v).transpose(1, 2).flatten(2))
    return x + b["mlp_proj"](F.gelu(b["c_fc"](b["ln_2"](x))))


def tiny_gpt2():
    seed(0)
    return gpt2_modules(V, N_CTX, d, N_LAYERS, device(), f64)


def logits_of(model, tokens):
    """tokens: (B, n) -> next-token logits (B, n, V) from the tied output layer."""
    tables, blocks, ln_f = model
    n = tokens.shape[1]
    h = tables["wte"](tokens) + tables["wpe"](torch.arange(n, device=tokens.device))
    for b in blocks:
        h = block_forward(b, h)
    return ln_f(h) @ tables["wte"].weight.T


def sequence_log_prob(model, s):
    """log p(s_1..s_n) for s: (B, n), from one pass over <|endoftext|>, s_1..s_{n-1}."""
    inputs = torch.cat([torch.full_like(s[:, :1], EOT), s[:, :-1]], dim=1)
    logits = logits_of(model, inputs)
    return -F.cross_entropy(logits.transpose(1, 2), s, reduction="none").sum(1)


@check("radford2019language/lm-factorisation", tex=r"p(x) = \prod_{i=1}^{n} p(s_i \mid s_1, \ldots, s_{i-1})",
       evaluates=True)
def check_lm_factorisation():
    """s: (7,). Each p(s_i | s_<i) recomputed by running the model on <|endoftext|>, s_1..s_{i-1} alone; their
    product against exp(−Σ F.cross_entropy) of one causal pass; over all 6^3 texts of length 3, p sums to 1."""
    model = tiny_gpt2()
    s = torch.randint(V, (1, 7), generator=seed(1)).to(device())
    with torch.no_grad():
        def p(s_i, prefix):                    # p(s_i | s_1, …, s_{i−1}): the model run on <|endoftext|>, prefix alone
            tokens = torch.cat([torch.tensor([EOT], device=device()), prefix.long()])[None]
            return torch.softmax(logits_of(model, tokens)[0, -1], -1)[s_i.long()]

        # p(x) = Π_{i=1}^{n} p(s_i | s_1, …, s_{i−1})
        product = evaluate("radford2019language/lm-factorisation", s=s[0], n=s.shape[1], p=p)
        close(product, sequence_log_prob(model, s)[0].exp(), "Π_i p(s_i | s_<i)")
        texts = torch.tensor(list(itertools.product(range(V), repeat=3)), device=device())
        close(sequence_log_prob(model, texts).exp().sum(), 1.0, "Σ_x p(x) over all length-3 texts")


@check("radford2019language/task-conditioning", tex=r"p(\text{output} \mid \text{input}, \text{task})")
def check_task_conditioning_is_a_prefix():
    """Task and input are a 4-token prefix; outputs have 2 tokens. p(output | prefix) as the product of the
    LM's next-token probabilities over the output equals p(prefix, output) / Σ_o p(prefix, o) computed by
    brute force over all 36 continuations."""
    model = tiny_gpt2()
    g = seed(2)
    prefix = torch.randint(V, (1, 4), generator=g).to(device())        # "task" and "input" tokens
    with torch.no_grad():
        continuations = torch.tensor(list(itertools.product(range(V), repeat=2)), device=device())
        joint = sequence_log_prob(model, torch.cat([prefix.expand(len(continuations), -1), continuations], 1)).exp()
        for index in (0, 17, 35):
            output = continuations[index]
            full = torch.cat([prefix[0], output])[None]
            probs = torch.softmax(logits_of(model, torch.cat([torch.tensor([[EOT]], device=device()), full[:, :-1]], 1)), -1)
            conditional = probs[0, 4, output[0]] * probs[0, 5, output[1]]     # p(output | prefix), token by token
            close(conditional, joint[index] / joint.sum(), f"p(output | input, task) for continuation {index}")


@check("radford2019language/cross-entropy", tex=r"\mathcal{L} = -\sum_{i} y_i \log(\hat{y}_i)", evaluates=True)
def check_cross_entropy():
    """tokens: (3, 8): the note's −Σ_i y_i log ŷ_i, evaluated at each of the 21 predicted positions (i over the
    vocabulary, y one-hot), summed, against F.cross_entropy(sum) of the shifted logits (the catalogue's form,
    as a mean, too); the seed's sign-less form is its negative."""
    model = tiny_gpt2()
    tokens = torch.randint(V, (3, N_CTX), generator=seed(3)).to(device())
    with torch.no_grad():
        logits = logits_of(model, tokens)[:, :-1]
        y = F.one_hot(tokens[:, 1:], V).to(f64)
        y_hat = torch.softmax(logits, -1)
        # L = −Σ_i y_i log(ŷ_i), one position at a time
        L = sum(evaluate("radford2019language/cross-entropy", y=y_t, yhat=y_hat_t)
                for y_t, y_hat_t in zip(y.reshape(-1, V), y_hat.reshape(-1, V)))
        close(L, F.cross_entropy(logits.reshape(-1, V), tokens[:, 1:].reshape(-1), reduction="sum"), "L")
        close(L / y.shape[0] / y.shape[1], -(logits.log_softmax(-1).gather(-1, tokens[:, 1:, None])).mean(), "mean form")
        differs((y * torch.log(y_hat)).sum(), L, "without the minus sign (blog seed)")


@check("radford2019language/causal-attention",
       tex=r"\operatorname{Attention}(Q, K, V) = \operatorname{softmax}\left(\frac{Q K^\top}{\sqrt{d_k}} + M\right) V",
       evaluates=True)
def check_causal_attention():
    """Q, K, V: (2, 3, 9, 8), M: (9, 9) with −∞ above the diagonal: the note's formula, evaluated with
    torch.softmax over the key axis, against F.scaled_dot_product_attention(is_causal=True); without M it
    differs."""
    g = seed(4)
    Q, K, V_ = (torch.randn(2, 3, 9, 8, generator=g, dtype=f64).to(device()) for _ in range(3))
    M = torch.full((9, 9), float("-inf"), dtype=f64, device=device()).triu(1)      # position i sees j ≤ i
    # Attention(Q, K, V) = softmax(Q Kᵀ / √d_k + M) V
    output = evaluate("radford2019language/causal-attention", Q=Q, K=K, V=V_, M=M, d_k=8,
                      softmax=lambda logits: torch.softmax(logits, dim=-1))
    close(output, F.scaled_dot_product_attention(Q, K, V_, is_causal=True), "masked attention")
    close(causal_attention(Q, K, V_), output, "the block's own attention")
    differs(F.scaled_dot_product_attention(Q, K, V_), causal_attention(Q, K, V_), "the formula without M")


@check("radford2019language/pre-ln-block",
       tex=r"x' = x + \operatorname{Attn}(\operatorname{LN}_1(x)), \qquad y = x' + \operatorname{MLP}(\operatorname{LN}_2(x'))",
       evaluates=True)
def check_pre_ln_block_against_torch():
    """x: (2, 8, 16): the block written out, with nn.TransformerEncoderLayer(norm_first=True, gelu, causal mask)
    weights copied in, against that layer's output; the post-LN layer with the same weights differs."""
    tables, blocks, _ = tiny_gpt2()
    b = blocks[0]
    layer = nn.TransformerEncoderLayer(d, HEADS, 4 * d, dropout=0.0, activation="gelu", batch_first=True,
                                       norm_first=True).to(device(), f64)
    with torch.no_grad():
        layer.self_attn.in_proj_weight.copy_(b["c_attn"].weight)
        layer.self_attn.in_proj_bias.copy_(b["c_attn"].bias)
        layer.self_attn.out_proj.weight.copy_(b["c_proj"].weight)
        layer.self_attn.out_proj.bias.copy_(b["c_proj"].bias)
        for src, dst in ((b["c_fc"], layer.linear1), (b["mlp_proj"], layer.linear2), (b["ln_1"], layer.norm1), (b["ln_2"], layer.norm2)):
            dst.weight.copy_(src.weight)
            dst.bias.copy_(src.bias)
        x = torch.randn(2, N_CTX, d, generator=seed(5), dtype=f64).to(device())
        mask = nn.Transformer.generate_square_subsequent_mask(N_CTX, device=device(), dtype=f64)
        # x' = x + Attn(LN_1(x)); y = x' + MLP(LN_2(x'))
        y = block_forward(b, x)
        close(y, layer(x, src_mask=mask, is_causal=True), "pre-LN block")

        def attn(u):                    # masked multi-head self-attention with its output projection
            q, k, v = (t.unflatten(-1, (HEADS, -1)).transpose(1, 2) for t in b["c_attn"](u).chunk(3, -1))
            return b["c_proj"](F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).flatten(2))

        # the note's two clauses, evaluated one after the other
        x_prime = evaluate_with("radford2019language/pre-ln-block", {"x": x, "Attn": attn, "LN_1": b["ln_1"]}, clause=0)
        y_note = evaluate_with("radford2019language/pre-ln-block",
                               {"x'": x_prime, "MLP": lambda u: b["mlp_proj"](F.gelu(b["c_fc"](u))), "LN_2": b["ln_2"]},
                               clause=1)
        close(y_note, layer(x, src_mask=mask, is_causal=True), "pre-LN block evaluated from the note")
        layer.norm_first = False
        differs(layer(x, src_mask=mask, is_causal=True), y, "post-LN with the same weights")


@check("radford2019language/residual-init", tex=r"\tilde W = \frac{W}{\sqrt{N}}", evaluates=True)
def check_scaled_residual_init_keeps_the_stream_variance():
    """N = 24 residual branches of width 96 with W ~ N(0, 1/96) and independent unit-variance inputs (512
    samples): scaled by 1/√N, the variance the branches add to the stream matches its exact expectation
    given the weights (within 5 standard errors) and is ≈ 1, one unscaled branch's worth; unscaled it is ≈ N."""
    N, width, samples = 24, 96, 512
    g = seed(6)
    W = torch.randn(N, width, width, generator=g, dtype=f64) / math.sqrt(width)
    # W̃ = W / √N
    W_tilde = evaluate("radford2019language/residual-init", W=W, N=N)
    z = torch.randn(N, samples, width, generator=g, dtype=f64)           # each branch's input
    added = torch.einsum("lij,lsj->si", W_tilde, z)                      # Σ_ℓ W̃_ℓ z_ℓ, (samples, width)
    exact = (W_tilde ** 2).sum((0, 2))                                    # Var of each coordinate given W
    # the purpose of the scaling: N scaled branches together add what one unscaled branch adds on average
    one_unscaled_branch = (W ** 2).sum(2).mean(0)                         # mean over ℓ of Var((W_ℓ z)_i)
    close(exact, one_unscaled_branch, "N scaled branches add the variance of one average unscaled branch")
    standard_error = (exact * math.sqrt(2 / samples)).mean() / math.sqrt(width)
    close(added.var(0).mean(), exact.mean(), "added variance vs its expectation", rtol=0, atol=5 * float(standard_error))
    close(exact.mean(), 1.0, "≈ one unscaled branch", rtol=0.02)
    close((W ** 2).sum((0, 2)).mean(), N, "unscaled: ≈ N", rtol=0.02)


SIZES = [(12, 768, 124.4e6, 117e6), (24, 1024, 354.8e6, 345e6), (36, 1280, 774.0e6, 762e6), (48, 1600, 1557.6e6, 1542e6)]


@check("radford2019language/parameter-count",
       tex=r"P = (V + n_{ctx}) \cdot d + n_{layer} \cdot (12 \cdot d^2 + 13 \cdot d) + 2 \cdot d", evaluates=True)
def check_parameter_counts_on_meta_device():
    """The four sizes built on device="meta" from explicit modules (tied output layer, final LN): the count
    equals P; with V = 50,257 it gives the note's 124.4M / 354.8M / 774.0M / 1557.6M; with V = 40,478 (GPT's
    vocabulary) it reproduces the paper's 117M / 345M / 762M / 1542M to within rounding (0.5M)."""
    meta = torch.device("meta")
    for n_layer, width, direct, paper in SIZES:
        _, blocks, ln_f = gpt2_modules(2, 2, width, n_layer, meta)            # the blocks do not depend on V
        for vocab, expected, tolerance in ((50257, direct, 0.05e6), (40478, paper, 0.5e6)):
            tables, _, _ = gpt2_modules(vocab, 1024, width, 0, meta)
            counted = sum(p.numel() for m in (tables, blocks, ln_f) for p in m.parameters())
            # P = (V + n_ctx) d + n_layer (12 d² + 13 d) + 2d
            close(evaluate("radford2019language/parameter-count", V=vocab, n_ctx=1024, d=width, n_layer=n_layer),
                  counted, f"P for n_layer={n_layer}, V={vocab}", rtol=0, atol=0)
            close(counted, expected, f"{expected / 1e6:g}M (n_layer={n_layer}, V={vocab})", rtol=0, atol=tolerance)

if __name__ == "__main__":
    run_checks(__name__)
