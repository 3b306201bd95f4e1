"""Checks for notes/lan2019albert.md: factorised embedding sizes, the factorised lookup, the lecture's
garbled arithmetic, shared post-LN layers, model sizes, and the sentence-order-prediction loss.

References: nn.Embedding / nn.Linear parameter counts on device="meta", F.embedding + nn.Linear against a
lookup in the product matrix, nn.TransformerEncoder (whose clones all start as copies of one layer) against
one nn.TransformerEncoderLayer reused L times, a closed-form parameter count, and F.cross_entropy.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

from harness import check, close, device, differs, evaluate, evaluate_with, holds_with, run_checks, seed

f64 = torch.float64
meta = torch.device("meta")
V, E = 30000, 128


def randn(g, *shape):
    return torch.randn(*shape, generator=g, dtype=f64).to(device())


def numel(*modules):
    return sum(p.numel() for m in modules for p in m.parameters())


def meta_embedding(rows, cols):
    """nn.Embedding on the meta device; _weight skips the normal_ init, whose first meta call is slow."""
    return nn.Embedding(rows, cols, _weight=torch.empty(rows, cols, device=meta))


@check("lan2019albert/embedding-bert", tex=r"P_{\text{BERT}} = V \cdot H", evaluates=True)
@check("lan2019albert/embedding-factorized", tex=r"P_{\text{ALBERT}} = V \cdot E + E \cdot H", evaluates=True)
def check_embedding_parameter_counts():
    """V = 30000, E = 128, H ∈ {768, 1024, 2048, 4096}: the note's formulas against nn.Embedding(V, H) and
    nn.Embedding(V, E) + nn.Linear(E, H, bias=False) built on the meta device; the table's values."""
    for H in (768, 1024, 2048, 4096):
        bert = numel(meta_embedding(V, H))
        albert = numel(meta_embedding(V, E), nn.Linear(E, H, bias=False, device=meta))
        # P_BERT = V·H
        close(evaluate("lan2019albert/embedding-bert", V=V, H=H), bert, f"V·H for H={H}", rtol=0, atol=0)
        # P_ALBERT = V·E + E·H
        close(evaluate("lan2019albert/embedding-factorized", V=V, E=E, H=H), albert, f"V·E + E·H for H={H}",
              rtol=0, atol=0)
    close(evaluate("lan2019albert/embedding-bert", V=V, H=768), 23_040_000, "table: V·H at H=768", rtol=0, atol=0)
    close(evaluate("lan2019albert/embedding-factorized", V=V, E=E, H=768), 3_938_304, "table: H=768", rtol=0, atol=0)
    close(evaluate("lan2019albert/embedding-bert", V=V, H=4096), 122_880_000, "table: V·H at H=4096", rtol=0, atol=0)
    close(evaluate("lan2019albert/embedding-factorized", V=V, E=E, H=4096), 4_364_288, "table: H=4096", rtol=0, atol=0)
    close(122_880_000 // 4_364_288, 28, "28 times smaller at H=4096", rtol=0, atol=0)


@check("lan2019albert/misstatement-transcript", tex=r"P_{\text{emb}} = V \cdot V + H \cdot V", evaluates=True)
def check_transcript_arithmetic_is_wrong():
    """V = 100000, H = 1024: the transcript's V·V + H·V is 10,102,400,000, ~100x the unfactorised V·H; the
    intended V·E + E·H (E = 128) is 12,931,072."""
    V_lecture, H = 100_000, 1024
    garbled = evaluate("lan2019albert/misstatement-transcript", V=V_lecture, H=H)
    intended = evaluate("lan2019albert/embedding-factorized", V=V_lecture, E=E, H=H)
    close(garbled, 10_102_400_000, "transcript's count", rtol=0, atol=0)
    close(intended, 12_931_072, "V·E + E·H with V = 100000, H = 1024", rtol=0, atol=0)
    close(garbled / (V_lecture * H), 98.65625, "transcript count / V·H (about 100)", rtol=0, atol=1e-9)
    differs(garbled, intended, "V·V + H·V vs V·E + E·H")


@check("lan2019albert/factorized-lookup",
       tex=r"e_x = (E_{tok})_{x,:}\, W_{proj} = \left(E_{tok} W_{proj}\right)_{x,:}", evaluates=True)
def check_factorized_lookup():
    """E_tok: (1000, 16), W_proj: (16, 64), x: (4, 9) ids. nn.Linear(nn.Embedding(x)) against a lookup in the
    product matrix E_tok W_proj (1000, 64), whose rank is at most E = 16."""
    vocab, E_small, H = 1000, 16, 64
    g = seed(0)
    embedding = nn.Embedding(vocab, E_small, dtype=f64, device=device())
    projection = nn.Linear(E_small, H, bias=False, dtype=f64, device=device())
    x = torch.randint(vocab, (4, 9), generator=g).to(device())
    E_tok, W_proj = embedding.weight.detach(), projection.weight.detach().T     # (V, E), (E, H)
    with torch.no_grad():
        two_step = projection(embedding(x))
    # e_x = (E_tok)_{x,:} W_proj
    close(F.embedding(x, E_tok) @ W_proj, two_step, "(E_tok)_x W_proj")
    # e_x = (E_tok W_proj)_{x,:}
    close((E_tok @ W_proj)[x], two_step, "lookup in the product matrix")
    close(torch.linalg.matrix_rank(E_tok @ W_proj), E_small, "rank of E_tok W_proj", rtol=0, atol=0)
    for k, token in enumerate(x[0].tolist()):
        # e_x = (E_tok)_{x,:} W_proj = (E_tok W_proj)_{x,:}: the two right sides from the note's LaTeX (row x,
        # ids counted from 0), e_x the output of nn.Linear(nn.Embedding(x))
        holds_with("lan2019albert/factorized-lookup", {"e_x": two_step[0, k], "E_tok": E_tok, "W_proj": W_proj, "x": token},
                   index_base=0)


def albert_layer(H, heads, seed_value):
    seed(seed_value)
    return nn.TransformerEncoderLayer(H, heads, 4 * H, dropout=0.0, activation="gelu", batch_first=True,
                                      norm_first=False, dtype=f64, device=device())


def post_ln_block(H_prev, layer):
    """H_prev: (B, n, H). The note's two equations, evaluated from its LaTeX, with the (shared) weights of
    `layer`: MHA its self-attention, FFN its two linear maps around GELU, the LayerNorms its norm1 and norm2."""
    def mha(h, theta):
        return theta(h, h, h, need_weights=False)[0]

    def ffn(h, theta):
        return theta.linear2(F.gelu(theta.linear1(h)))

    def layer_norm(norm):
        return lambda h: F.layer_norm(h, (h.shape[-1],), norm.weight, norm.bias, norm.eps)

    # \tilde H^l = LayerNorm(H^{l-1} + MHA(H^{l-1}; θ_att))
    H_tilde = evaluate_with("lan2019albert/shared-attention", {"H^l-1": H_prev, "MHA": mha, "theta_att": layer.self_attn,
                                                               "LayerNorm": layer_norm(layer.norm1)})
    # H^l = LayerNorm(\tilde H^l + FFN(\tilde H^l; θ_ffn))
    return evaluate_with("lan2019albert/shared-ffn", {"Htilde^l": H_tilde, "FFN": ffn, "theta_ffn": layer,
                                                      "LayerNorm": layer_norm(layer.norm2)})


@check("lan2019albert/shared-attention",
       tex=r"\tilde H^l = \operatorname{LayerNorm}\left(H^{l-1} + \operatorname{MHA}\left(H^{l-1}; \theta_{att}\right)\right)",
       evaluates=True)
@check("lan2019albert/shared-ffn",
       tex=r"H^l = \operatorname{LayerNorm}\left(\tilde H^l + \operatorname{FFN}\left(\tilde H^l; \theta_{ffn}\right)\right)",
       evaluates=True)
def check_shared_layers():
    """H = 32, 4 heads, L = 12, input (2, 7, 32). The two equations applied 12 times with ONE set of
    weights equal nn.TransformerEncoder(layer, 12) (its 12 clones are copies of one layer, i.e. shared
    values); the shared stack has 1/12 of the parameters; an unshared stack gives a different output."""
    H, heads, L = 32, 4, 12
    layer = albert_layer(H, heads, 1)
    x = randn(seed(2), 2, 7, H)
    stack = nn.TransformerEncoder(layer, L, enable_nested_tensor=False)
    h = x
    with torch.no_grad():
        for _ in range(L):
            h = post_ln_block(h, layer)
        close(h, stack(x), "12 applications of one shared layer vs nn.TransformerEncoder of 12 copies")
        close(layer(x), post_ln_block(x, layer), "one block vs nn.TransformerEncoderLayer")
        close(numel(stack), L * numel(layer), "unshared stack has L x the parameters", rtol=0, atol=0)
        unshared = nn.TransformerEncoder(layer, L, enable_nested_tensor=False)
        for i, clone in enumerate(unshared.layers):
            for p in clone.parameters():
                p.copy_(randn(seed(10 + i), *p.shape) * 0.1 + p)
        differs(unshared(x), h, "independent per-layer weights vs shared weights")


def albert_count(H, L, shared=True, factorized=True, pooler=True, positions=512, segments=2):
    """Parameters (excluding MLM/SOP heads), modules built on the meta device."""
    width = E if factorized else H
    modules = [meta_embedding(V, width), meta_embedding(positions, width), meta_embedding(segments, width),
               nn.LayerNorm(width, device=meta)]
    if factorized:
        modules.append(nn.Linear(E, H, device=meta))                      # E x H projection with bias
    layers = 1 if shared else L
    modules += [nn.TransformerEncoderLayer(H, max(1, H // 64), 4 * H, device=meta) for _ in range(layers)]
    if pooler:
        modules.append(nn.Linear(H, H, device=meta))
    return numel(*modules)


@check("lan2019albert/embedding-factorized", tex=r"P_{\text{ALBERT}} = V \cdot E + E \cdot H")
@check("lan2019albert/shared-attention",
       tex=r"\tilde H^l = \operatorname{LayerNorm}\left(H^{l-1} + \operatorname{MHA}\left(H^{l-1}; \theta_{att}\right)\right)")
@check("lan2019albert/shared-ffn",
       tex=r"H^l = \operatorname{LayerNorm}\left(\tilde H^l + \operatorname{FFN}\left(\tilde H^l; \theta_{ffn}\right)\right)")
def check_model_sizes():
    """The note's size table: BERT-base/large (unshared, E = H) and ALBERT-base/large/xlarge (E = 128,
    all shared) counted from meta modules, against a closed form and the paper's rounded figures."""
    def closed_form(H, L, shared, factorized, pooler):
        width = E if factorized else H
        embeddings = (V + 512 + 2) * width + 2 * width + ((E * H + H) if factorized else 0)
        layer = 12 * H * H + 13 * H          # 4(H²+H) attention, 8H²+5H FFN, 4H two LayerNorms
        return embeddings + (1 if shared else L) * layer + ((H * H + H) if pooler else 0)

    rows = {"BERT-base": (768, 12, False), "BERT-large": (1024, 24, False), "ALBERT-base": (768, 12, True),
            "ALBERT-large": (1024, 24, True), "ALBERT-xlarge": (2048, 24, True)}
    noted = {"BERT-base": (109.1, 108.5), "BERT-large": (334.6, 333.6), "ALBERT-base": (11.7, 11.1),
             "ALBERT-large": (17.7, 16.6), "ALBERT-xlarge": (58.7, 54.5)}
    counts = {}
    for name, (H, L, albert) in rows.items():
        for pooler, stated in zip((True, False), noted[name]):
            count = albert_count(H, L, shared=albert, factorized=albert, pooler=pooler)
            close(count, closed_form(H, L, albert, albert, pooler), f"{name} (pooler={pooler}) closed form",
                  rtol=0, atol=0)
            close(round(count / 1e6, 1), stated, f"{name} (pooler={pooler}) as the note states", rtol=0, atol=1e-9)
            counts[name, pooler] = count
    close(round(counts["ALBERT-base", True] / 1e6), 12, "ALBERT-base rounds to the paper's 12M", rtol=0, atol=0)
    close(round(counts["ALBERT-large", True] / 1e6), 18, "ALBERT-large rounds to the paper's 18M", rtol=0, atol=0)
    close(round(counts["BERT-base", False] / 1e6), 108, "BERT-base without pooler rounds to 108M", rtol=0, atol=0)
    close(round(counts["BERT-large", False] / 1e6), 334, "BERT-large without pooler rounds to 334M", rtol=0, atol=0)
    close(round(counts["BERT-base", True] / counts["ALBERT-base", True]), 9, "about 9x fewer than BERT-base",
          rtol=0, atol=0)


@check("lan2019albert/sop-loss", tex=r"\mathcal{L}_{SOP} = -\log \operatorname{softmax}\left(W_{sop} C + b_{sop}\right)_{y}",
       evaluates=True)
def check_sop_loss():
    """C: (256, 32) [CLS] vectors, W_sop: (2, 32), b_sop: (2,). The note's formula, evaluated for the first 32
    examples (y counted from 1, as the evaluator counts indices), against F.cross_entropy; and for an
    order-blind classifier (C from the mean of the two segments' token vectors) the loss averaged over
    (A, B, in order) and (B, A, swapped) is at least log 2, while an order-aware one can go below it."""
    g = seed(3)
    n, H = 256, 32
    C, W_sop, b_sop = randn(g, n, H), randn(g, 2, H), randn(g, 2)
    y = torch.randint(2, (n,), generator=g).to(device())
    logits = C @ W_sop.T + b_sop
    # L_SOP = −log softmax(W_sop C + b_sop)_y, one example at a time
    loss = torch.stack([evaluate("lan2019albert/sop-loss", W_sop=W_sop, C=C[e], b_sop=b_sop, y=int(y[e]) + 1,
                                 softmax=lambda z: torch.softmax(z, dim=-1)) for e in range(32)])
    close(loss, F.cross_entropy(logits[:32], y[:32], reduction="none"), "L_SOP per example")

    A, B = randn(g, n, 5, H), randn(g, n, 5, H)       # token vectors of two consecutive segments

    def order_blind(first, second):                   # depends only on which tokens are present
        return torch.cat([first, second], 1).mean(1) @ W_sop.T + b_sop

    def order_aware(first, second):                   # sees which segment comes first
        return (first.mean(1) - second.mean(1)) @ W_sop.T * 4 + b_sop

    in_order, swapped = torch.zeros(n, dtype=torch.long), torch.ones(n, dtype=torch.long)
    for model, name in ((order_blind, "order-blind"), (order_aware, "order-aware")):
        pair = 0.5 * (F.cross_entropy(model(A, B), in_order.to(device()), reduction="none")
                      + F.cross_entropy(model(B, A), swapped.to(device()), reduction="none"))
        if name == "order-blind":
            close((pair - math.log(2)).clamp(max=0), torch.zeros_like(pair), "order-blind pair loss ≥ log 2")
        else:
            close((pair.min() - math.log(2)).clamp(min=0), 0.0, "an order-aware classifier goes below log 2")


if __name__ == "__main__":
    run_checks(__name__)
