"""Checks for notes/radford2018improving.md: the LM objective, the input and output layers with tied
embeddings, the post-LN masked Transformer block, the last-token classifier, the task and fine-tuning
objectives, and the parameter count.

References: a tiny GPT (d=16, 2 heads, 2 nn.TransformerEncoderLayer blocks with GELU, post-LN and a causal
mask); each conditional recomputed from scratch on its prefix against one teacher-forced pass scored with
F.cross_entropy; F.embedding / F.linear / torch.softmax; F.scaled_dot_product_attention(is_causal=True) and
nn.LayerNorm for the block; autograd; and the 12-layer model built on device="meta".
"""
import torch
import torch.nn.functional as F
from torch import nn

from harness import check, close, device, differs, evaluate, evaluate_with, run_checks, seed

f64 = torch.float64
V, d, HEADS, N_LAYERS, N_CTX = 20, 16, 2, 2, 8


def tiny_gpt():
    """W_e: (V, d), W_p: (n_ctx, d), post-LN GELU blocks, and a task layer W_y: (d, 3)."""
    g = seed(0)
    W_e = (0.3 * torch.randn(V, d, generator=g, dtype=f64)).to(device()).requires_grad_()
    W_p = (0.3 * torch.randn(N_CTX, d, generator=g, dtype=f64)).to(device()).requires_grad_()
    W_y = (0.3 * torch.randn(d, 3, generator=g, dtype=f64)).to(device()).requires_grad_()
    blocks = nn.ModuleList(nn.TransformerEncoderLayer(d, HEADS, 4 * d, dropout=0.0, activation="gelu", batch_first=True,
                                                      norm_first=False) for _ in range(N_LAYERS)).to(device(), f64)
    return W_e, W_p, W_y, blocks


def decoder(tokens, W_e, W_p, blocks):
    """tokens: (B, n) -> h_n: (B, n, d)."""
    n = tokens.shape[1]
    U = F.one_hot(tokens, V).to(f64)                                  # one-hot rows
    # h_0 = U W_e + W_p
    h = U @ W_e + W_p[:n]
    causal = nn.Transformer.generate_square_subsequent_mask(n, device=device(), dtype=f64)
    for block in blocks:
        # h_l = transformer_block(h_{l-1})
        h = block(h, src_mask=causal, is_causal=True)
    return h


def next_token_probabilities(h_n, W_e):
    # P(u) = softmax(h_n W_eᵀ)
    return torch.softmax(h_n @ W_e.T, dim=-1)


@check("radford2018improving/input", tex=r"h_0 = U W_e + W_p", evaluates=True)
@check("radford2018improving/output", tex=r"P(u) = \operatorname{softmax}(h_n W_e^\top)", evaluates=True)
@check("radford2018improving/blocks", tex=r"h_l = \operatorname{transformer\_block}(h_{l-1}) \quad \forall l \in [1, n]")
def check_embeddings_block_and_tied_output():
    """tokens: (2, 8). U W_e + W_p, evaluated from the note with U the one-hot rows, against F.embedding +
    position rows; one block written out (masked
    multi-head attention via F.scaled_dot_product_attention(is_causal=True), residual, LayerNorm, GELU FFN,
    residual, LayerNorm) against the nn.TransformerEncoderLayer; softmax(h_n W_eᵀ), evaluated, against torch.softmax of
    F.linear with the same W_e (the tied output layer)."""
    W_e, W_p, _, blocks = tiny_gpt()
    tokens = torch.randint(V, (2, N_CTX), generator=seed(1)).to(device())
    with torch.no_grad():
        # h_0 = U W_e + W_p
        h_0 = evaluate("radford2018improving/input", U=F.one_hot(tokens, V).to(f64), W_e=W_e, W_p=W_p)
        close(h_0, F.embedding(tokens, W_e) + F.embedding(torch.arange(N_CTX, device=device()), W_p), "h_0 = U W_e + W_p")

        block = blocks[0]
        W_qkv, b_qkv = block.self_attn.in_proj_weight, block.self_attn.in_proj_bias
        q, k, v = (t.unflatten(-1, (HEADS, d // HEADS)).transpose(1, 2) for t in F.linear(h_0, W_qkv, b_qkv).chunk(3, -1))
        attention = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).flatten(2)
        attention = block.self_attn.out_proj(attention)
        x = F.layer_norm(h_0 + attention, (d,), block.norm1.weight, block.norm1.bias, block.norm1.eps)
        ffn = block.linear2(F.gelu(block.linear1(x)))
        h_1 = F.layer_norm(x + ffn, (d,), block.norm2.weight, block.norm2.bias, block.norm2.eps)
        causal = nn.Transformer.generate_square_subsequent_mask(N_CTX, device=device(), dtype=f64)
        close(h_1, block(h_0, src_mask=causal, is_causal=True), "transformer_block(h_0), post-LN, masked")

        h_n = decoder(tokens, W_e, W_p, blocks)
        # P(u) = softmax(h_n W_eᵀ)
        P_u = evaluate("radford2018improving/output", h_n=h_n, W_e=W_e, softmax=lambda z: torch.softmax(z, dim=-1))
        close(P_u, torch.softmax(F.linear(h_n, W_e), dim=-1), "softmax(h_n W_eᵀ), tied")


@check("radford2018improving/lm-objective", tex=r"L_1(\mathcal{U}) = \sum_i \log P(u_i \mid u_{i-k}, \ldots, u_{i-1}; \Theta)",
       evaluates=True)
def check_lm_objective_against_prefix_runs():
    """u: (8,) = one full context window (k = 8). log P(u_i | u_<i) recomputed by running the model on the
    prefix alone, summed over i = 2..8, against −F.cross_entropy(sum) of one causal pass; a pass without
    the causal mask (each position seeing the future) gives a different value."""
    W_e, W_p, _, blocks = tiny_gpt()
    u = torch.randint(V, (1, N_CTX), generator=seed(2)).to(device())
    def P(u_i, window, Theta):
        """P(u_i | window; Θ): the model with parameters Θ (W_e, W_p, then the blocks, as one vector) run on the
        window alone; the probability of u_i at its last position."""
        W_e_, W_p_ = Theta[:V * d].view(V, d), Theta[V * d:(V + N_CTX) * d].view(N_CTX, d)
        rest, at = Theta[(V + N_CTX) * d:], 0
        parameters = {}
        for name, parameter in blocks.named_parameters():
            parameters[name] = rest[at:at + parameter.numel()].view_as(parameter)
            at += parameter.numel()
        h = F.one_hot(window.long()[None], V).to(f64) @ W_e_ + W_p_[:window.shape[0]]
        causal = nn.Transformer.generate_square_subsequent_mask(window.shape[0], device=device(), dtype=f64)
        for j, block in enumerate(blocks):
            own = {name[len(f"{j}."):]: value for name, value in parameters.items() if name.startswith(f"{j}.")}
            h = torch.func.functional_call(block, own, (h,), {"src_mask": causal, "is_causal": True})
        return next_token_probabilities(h, W_e_)[0, -1, u_i.long()]

    with torch.no_grad():
        Theta = torch.cat([W_e.flatten(), W_p.flatten(), torch.nn.utils.parameters_to_vector(blocks.parameters())])
        # L_1(U) = Σ_i log P(u_i | u_{i−k}, …, u_{i−1}; Θ), k = 8 (the window reaches back to u_1); i from 2, the
        # first token having no context to be predicted from
        L_1 = evaluate_with("radford2018improving/lm-objective", {"u": u[0], "k": N_CTX, "P": P, "Theta": Theta},
                            indices={"i": range(2, N_CTX + 1)})
        logits = decoder(u, W_e, W_p, blocks)[0, :-1] @ W_e.T
        close(L_1, -F.cross_entropy(logits, u[0, 1:], reduction="sum"), "L_1")
        h = F.one_hot(u, V).to(f64) @ W_e + W_p
        for block in blocks:
            h = block(h)                                              # no mask: sees u_i and later tokens
        differs(-F.cross_entropy(h[0, :-1] @ W_e.T, u[0, 1:], reduction="sum"), L_1, "unmasked model vs L_1")


@check("radford2018improving/classifier", tex=r"P(y \mid x^1, \ldots, x^m) = \operatorname{softmax}(h_l^m W_y)", evaluates=True)
@check("radford2018improving/task-objective", tex=r"L_2(\mathcal{C}) = \sum_{(x, y)} \log P(y \mid x^1, \ldots, x^m)")
def check_last_token_classifier():
    """Four sequences of m=6 tokens with labels y ∈ {0, 1, 2}: softmax(h_l^m W_y) summed as log-likelihood
    against −F.cross_entropy(sum); the last position depends on every token, the first on itself only."""
    W_e, W_p, W_y, blocks = tiny_gpt()
    g = seed(3)
    x = torch.randint(V, (4, 6), generator=g).to(device())
    y = torch.tensor([0, 2, 1, 2], device=device())
    with torch.no_grad():
        h_m = decoder(x, W_e, W_p, blocks)[:, -1]                     # final block, last token
        # P(y | x^1..x^m) = softmax(h_l^m W_y)
        P = evaluate("radford2018improving/classifier", W_y=W_y, **{"h_l^m": h_m})
        close(P, torch.softmax(F.linear(h_m, W_y.T), -1), "P(y | x^1..x^m) from the note's LaTeX vs torch.softmax(F.linear)")
        # L_2 = Σ_{(x, y)} log P(y | x^1..x^m)
        L_2 = torch.log(P[torch.arange(4), y]).sum()
        close(L_2, -F.cross_entropy(h_m @ W_y, y, reduction="sum"), "L_2")
        changed = x.clone()
        changed[:, 0] = (changed[:, 0] + 1) % V                       # change the first token only
        differs(decoder(changed, W_e, W_p, blocks)[:, -1], h_m, "h^m depends on x^1")
        changed = x.clone()
        changed[:, -1] = (changed[:, -1] + 1) % V                     # change the last token only
        close(decoder(changed, W_e, W_p, blocks)[:, 0], decoder(x, W_e, W_p, blocks)[:, 0], "h^1 ignores x^m")


@check("radford2018improving/fine-tuning-objective", tex=r"L_3(\mathcal{C}) = L_2(\mathcal{C}) + \lambda \cdot L_1(\mathcal{C})",
       evaluates=True)
def check_fine_tuning_objective():
    """λ = 0.5 on the task data itself: L_3 against −(F.cross_entropy of the labels + 0.5 · F.cross_entropy of
    the next tokens), both summed; its gradient is ∇L_2 + 0.5 ∇L_1 and reaches every decoder parameter."""
    W_e, W_p, W_y, blocks = tiny_gpt()
    g = seed(4)
    x = torch.randint(V, (3, 7), generator=g).to(device())
    y = torch.tensor([1, 0, 2], device=device())
    lam = 0.5
    h = decoder(x, W_e, W_p, blocks)
    L_2 = torch.log_softmax(h[:, -1] @ W_y, -1)[torch.arange(3), y].sum()
    L_1 = torch.log_softmax(h[:, :-1] @ W_e.T, -1).gather(-1, x[:, 1:, None]).sum()
    # L_3(C) = L_2(C) + λ · L_1(C), evaluated with L_2 and L_1 as functions of the task data C
    L_3 = evaluate("radford2018improving/fine-tuning-objective", C=x, **{"lambda": lam},
                   L_2=lambda C: L_2, L_1=lambda C: L_1)
    reference = -(F.cross_entropy(h[:, -1] @ W_y, y, reduction="sum")
                  + lam * F.cross_entropy((h[:, :-1] @ W_e.T).flatten(0, 1), x[:, 1:].flatten(), reduction="sum"))
    close(L_3, reference, "L_3 = L_2 + 0.5 L_1")
    params = [W_e, W_p] + list(blocks.parameters())
    g_3 = torch.autograd.grad(L_3, params, retain_graph=True)
    g_2 = torch.autograd.grad(L_2, params, retain_graph=True, allow_unused=True)
    g_1 = torch.autograd.grad(L_1, params, retain_graph=True)
    for a, b, c in zip(g_3, g_2, g_1):
        close(a, (torch.zeros_like(c) if b is None else b) + lam * c, "∇L_3 = ∇L_2 + λ ∇L_1")
    reached = torch.tensor([float(t.abs().sum() > 0) for t in g_3])
    close(reached, torch.ones_like(reached), "every decoder parameter gets a gradient", rtol=0, atol=0)


@check("radford2018improving/parameter-count",
       tex=r"P = (V + n_{ctx}) \cdot d + n_{layer} \cdot (12 \cdot d^2 + 13 \cdot d)", evaluates=True)
def check_parameter_count_on_meta_device():
    """GPT as released (V = 40,478, n_ctx = 512, 12 post-LN layers, d = 768, 12 heads, FFN 3072, tied output
    layer, no final LayerNorm) built on device="meta": the count equals P and is ≈ 116.5M, the 117M that the
    GPT-2 paper gives for its smallest, GPT-sized model."""
    vocab, n_ctx, n_layer, width = 40478, 512, 12, 768
    meta = torch.device("meta")
    tables = [nn.Embedding.from_pretrained(torch.empty(rows, width, device=meta), freeze=False) for rows in (vocab, n_ctx)]
    layers = [nn.TransformerEncoderLayer(width, 12, 4 * width, activation="gelu", batch_first=True, device=meta)
              for _ in range(n_layer)]
    counted = sum(p.numel() for m in tables + layers for p in m.parameters())
    # P = (V + n_ctx) d + n_layer (12 d² + 13 d)
    close(evaluate("radford2018improving/parameter-count", V=vocab, n_ctx=n_ctx, d=width, n_layer=n_layer), counted,
          "parameters counted on the modules", rtol=0, atol=0)
    close(counted, 116.5e6, "≈ 116.5M (note)", rtol=1e-3)
    close(counted, 117e6, "≈ 117M (GPT-2 paper, smallest model)", rtol=5e-3)


if __name__ == "__main__":
    run_checks(__name__)
