"""Checks for notes/devlin2018bert.md: model sizes, the input embedding, MLM masking, the MLM and NSP
losses, their sum, and the SQuAD span-start softmax.

References: parameter counts of the architecture built on device="meta" (embeddings, nn.TransformerEncoderLayer
stack, pooler), F.embedding_bag, an exact enumeration of the
branches of Hugging Face's masking collator, F.cross_entropy, a closed-form gradient against autograd, and torch.softmax.
"""
from fractions import Fraction

import torch
import torch.nn.functional as F
from torch import nn

from harness import check, close, device, differs, evaluate, evaluate_with, run_checks, seed

f64 = torch.float64


def randn(g, *shape):
    return torch.randn(*shape, generator=g, dtype=f64).to(device())


def bert_parameter_count(L, H, A, vocab=30522, positions=512, segments=2):
    """Parameters of BERT's encoder with pooler, built on the meta device (nothing is allocated)."""
    meta = torch.device("meta")
    # the tables E^tok, E^seg, E^pos (from_pretrained skips normal_ init, whose first meta call takes seconds)
    embeddings = [nn.Embedding.from_pretrained(torch.empty(rows, H, device=meta), freeze=False)
                  for rows in (vocab, segments, positions)] + [nn.LayerNorm(H, device=meta)]
    # each layer: Q, K, V and output projections with biases, LayerNorm, FFN H → 4H → H, LayerNorm
    layers = [nn.TransformerEncoderLayer(H, A, dim_feedforward=4 * H, batch_first=True, device=meta) for _ in range(L)]
    pooler = nn.Linear(H, H, device=meta)                      # tanh dense layer on [CLS]
    return sum(p.numel() for module in embeddings + layers + [pooler] for p in module.parameters())


@check("devlin2018bert/input-embedding", tex=r"e_i = E^{tok}_{x_i} + E^{seg}_{s_i} + E^{pos}_{i}")
def check_parameter_counts():
    """BERT-BASE (L=12, H=768, A=12) ≈ 110M and BERT-LARGE (L=24, H=1024, A=16) ≈ 340M, with the tables
    E^tok (30522×H), E^seg (2×H), E^pos (512×H); the note's direct counts ≈ 109.5M and 335M."""
    base, large = bert_parameter_count(12, 768, 12), bert_parameter_count(24, 1024, 16)

    def closed_form(L, H, vocab=30522, positions=512, segments=2):
        embeddings = (vocab + positions + segments) * H + 2 * H
        layer = 4 * (H * H + H) + 2 * H + (H * 4 * H + 4 * H) + (4 * H * H + H) + 2 * H
        return embeddings + L * layer + H * H + H

    close(base, closed_form(12, 768), "BERT-BASE count against the closed form", rtol=0, atol=0)
    close(large, closed_form(24, 1024), "BERT-LARGE count against the closed form", rtol=0, atol=0)
    close(base, 110e6, "BERT-BASE ≈ 110M (paper, rounded)", rtol=0.005)      # 109,482,240
    close(large, 340e6, "BERT-LARGE ≈ 340M (paper, rounded)", rtol=0.015)    # 335,141,888
    close(base, 109.5e6, "BERT-BASE ≈ 109.5M (note)", rtol=1e-3)
    close(large, 335e6, "BERT-LARGE ≈ 335M (note)", rtol=1e-3)


@check("devlin2018bert/input-embedding", tex=r"e_i = E^{tok}_{x_i} + E^{seg}_{s_i} + E^{pos}_{i}", evaluates=True)
def check_input_embedding_is_a_sum_of_three_lookups():
    """x, s: (64,) ids; E^tok: (1000, 32), E^seg: (2, 32), E^pos: (512, 32) -> e: (64, 32), against
    F.embedding_bag(mode="sum") over one stacked table with offsets 0, |V|, |V|+2."""
    vocab, H, n = 1000, 32, 64
    g = seed(10)
    E_tok, E_seg, E_pos = randn(g, vocab, H), randn(g, 2, H), randn(g, 512, H)
    x = torch.randint(vocab, (n,), generator=g).to(device())
    s = (torch.arange(n) >= 40).long().to(device())          # segment A then segment B
    i = torch.arange(n, device=device())
    # e_i = E^tok_{x_i} + E^seg_{s_i} + E^pos_i
    e = E_tok[x] + E_seg[s] + E_pos[i]
    bags = torch.stack([x, vocab + s, vocab + 2 + i], dim=1)  # (64, 3) rows into the stacked table
    reference = F.embedding_bag(bags, torch.cat([E_tok, E_seg, E_pos]), mode="sum")
    close(e, reference, "e_i")
    # e_i = E^tok_{x_i} + E^seg_{s_i} + E^pos_i, evaluated from the note's LaTeX at every position (ids from 0)
    tables = {"E^tok": E_tok, "E^seg": E_seg, "E^pos": E_pos, "x": x, "s": s}
    e_note = torch.stack([evaluate_with("devlin2018bert/input-embedding", {**tables, "i": k}, index_base=0) for k in range(n)])
    close(e_note, reference, "e_i from the note's LaTeX against F.embedding_bag over the stacked tables")


def collator_distribution(x, vocab, MASK):
    """Exact P(x̃_i = v | x_i = x, i ∈ M) for v in 0..|V|-1, by enumerating the branches of Hugging Face's
    DataCollatorForLanguageModeling as its documentation describes them: a selected token is replaced by
    [MASK] when a Bernoulli(0.8) draw says so; otherwise, when a second Bernoulli(0.5) draw says so, by a token
    drawn uniformly from the whole vocabulary; otherwise it is kept. Exact fractions, no sampling."""
    p = [Fraction(0)] * vocab
    replaced, randomised = Fraction(8, 10), Fraction(5, 10)
    p[MASK] += replaced                                            # branch 1: [MASK]
    for v in range(vocab):                                         # branch 2: a random word
        p[v] += (1 - replaced) * randomised / vocab
    p[x] += (1 - replaced) * (1 - randomised)                      # branch 3: unchanged
    return torch.tensor([float(q) for q in p], dtype=f64)


@check("devlin2018bert/masking",
       tex=r"\tilde x_i = \begin{cases} \texttt{[MASK]} & \text{with probability } 0.8 \\ u_i \sim \operatorname{Uniform}(\mathcal{V}) & \text{with probability } 0.1 \\ x_i & \text{with probability } 0.1 \end{cases} \quad (i \in M), \qquad \tilde x_i = x_i \quad (i \notin M)")
def check_masking_against_the_collator_enumerated():
    """|V| = 12 (id 3 is [MASK]): for every ordinary token x, the note's three cases as a distribution over
    x̃_i (0.8 on [MASK], 0.1 spread uniformly over V, 0.1 on x) against the exact distribution of Hugging
    Face's collator, enumerated branch by branch (0.8, then 0.5 of the rest); a collator that kept the
    remaining 20% unchanged (no random words) differs."""
    vocab, MASK = 12, 3
    for x in (v for v in range(vocab) if v != MASK):
        one_hot = F.one_hot(torch.tensor(x), vocab).to(f64)
        # x̃_i = [MASK] w.p. 0.8;  u_i ~ Uniform(V) w.p. 0.1;  x_i w.p. 0.1   (i ∈ M)
        cases = 0.8 * F.one_hot(torch.tensor(MASK), vocab).to(f64) + 0.1 * torch.full((vocab,), 1 / vocab, dtype=f64) + 0.1 * one_hot
        close(cases, collator_distribution(x, vocab, MASK), f"P(x̃_i | x_i = {x}, i ∈ M)")
    no_random = 0.8 * F.one_hot(torch.tensor(MASK), vocab).to(f64) + 0.2 * one_hot
    differs(no_random, collator_distribution(x, vocab, MASK), "80% [MASK] and 20% unchanged")


def mlm_setup(g, B=4, n=24, H=16, vocab=200):
    """T: (B, n, H) final hidden states, x: (B, n) original ids, M: (B, n) bool (never position 0, [CLS])."""
    T = randn(g, B, n, H)
    x = torch.randint(vocab, (B, n), generator=g).to(device())
    M = (torch.rand(B, n, generator=g) < 0.15).to(device())
    M[:, 0] = False
    M[:, 5] = True                                               # at least one prediction per sequence
    W_out, b_out = randn(g, vocab, H), randn(g, vocab)
    return T, x, M, W_out, b_out


def mlm_loss(T, x, M, W_out, b_out):
    logits = T @ W_out.T + b_out                                # (B, n, |V|)
    # p_θ(· | x̃) = softmax(W_out T_i + b_out)
    p = logits.exp() / logits.exp().sum(-1, keepdim=True)
    log_p = p.gather(-1, x[..., None]).squeeze(-1).log()        # log p_θ(x_i | x̃)
    # L_MLM = −(1/|M|) Σ_{i ∈ M} log p_θ(x_i | x̃)
    return -log_p[M].sum() / M.sum()


def nsp_loss(C, y, W_nsp, b_nsp):
    logits = C @ W_nsp.T + b_nsp                                # (B, 2)
    # p_θ(· | A, B) = softmax(W_nsp C + b_nsp); L_NSP = −log p_θ(y | A, B), averaged over the batch
    p = logits.exp() / logits.exp().sum(-1, keepdim=True)
    return -p.gather(-1, y[:, None]).log().mean()


@check("devlin2018bert/mlm-loss",
       tex=r"\mathcal{L}_{MLM} = -\frac{1}{|M|} \sum_{i \in M} \log p_\theta\left(x_i \mid \tilde x\right), \qquad p_\theta(\cdot \mid \tilde x) = \operatorname{softmax}\left(W_{out} T_i + b_{out}\right)",
       evaluates=True)
def check_mlm_loss_against_cross_entropy():
    """Against F.cross_entropy with the unselected positions set to ignore_index (mean over M only);
    averaging over all positions instead gives a different loss. Both clauses evaluated from the note per
    sequence (x_i passed with its position i, x̃ as the hidden states T it produces) against the same."""
    T, x, M, W_out, b_out = mlm_setup(seed(12))
    logits = T @ W_out.T + b_out
    labels = x.masked_fill(~M, -100)
    loss = mlm_loss(T, x, M, W_out, b_out)
    close(loss, F.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=-100), "L_MLM")

    def p_theta(x_i, T_of_x_tilde):
        """p_θ(x_i | x̃), x_i passed with its position as the row (i, token), x̃ as the encoder's states T."""
        i, token = x_i[0], x_i[1].long()
        # p_θ(· | x̃) = softmax(W_out T_i + b_out)
        distribution = evaluate_with("devlin2018bert/mlm-loss", {"W_out": W_out, "T": T_of_x_tilde, "i": i,
                                                                 "b_out": b_out}, clause=1)
        return distribution[token]

    positions = torch.arange(1, x.shape[1] + 1, device=device())
    for b in range(x.shape[0]):
        # L_MLM = −1/|M| Σ_{i ∈ M} log p_θ(x_i | x̃), M the masked positions (from 1) of sequence b
        L_b = evaluate_with("devlin2018bert/mlm-loss", {
            "M": (positions[M[b]]).tolist(), "x": torch.stack([positions, x[b]], 1), "xtilde": T[b], "p_theta": p_theta},
            clause=0)
        close(L_b, F.cross_entropy(logits[b], labels[b], ignore_index=-100), f"L_MLM of sequence {b}, from the note")
    differs(F.cross_entropy(logits.flatten(0, 1), x.flatten()), loss, "cross-entropy over all tokens vs over M")


@check("devlin2018bert/nsp-loss",
       tex=r"\mathcal{L}_{NSP} = -\log p_\theta\left(y \mid A, B\right), \qquad p_\theta(\cdot \mid A, B) = \operatorname{softmax}\left(W_{nsp} C + b_{nsp}\right)",
       evaluates=True)
def check_nsp_loss_against_cross_entropy():
    """C: (32, 16), y ∈ {0 = IsNext, 1 = NotNext} (both present): against F.cross_entropy, per pair and
    averaged; −log P(IsNext) for every pair is a different loss. Then both clauses evaluated from the note for
    six pairs (A, B) of token ids read by a tiny encoder (C its [CLS] state), against F.cross_entropy."""
    g = seed(13)
    C, W_nsp, b_nsp = randn(g, 32, 16), randn(g, 2, 16), randn(g, 2)
    y = (torch.arange(32) % 2).to(device())
    logits = C @ W_nsp.T + b_nsp
    per_pair = torch.stack([nsp_loss(C[j:j + 1], y[j:j + 1], W_nsp, b_nsp) for j in range(32)])
    close(per_pair, F.cross_entropy(logits, y, reduction="none"), "L_NSP per pair")
    close(nsp_loss(C, y, W_nsp, b_nsp), F.cross_entropy(logits, y), "mean L_NSP")
    differs(F.cross_entropy(logits, torch.zeros_like(y)), nsp_loss(C, y, W_nsp, b_nsp), "−log P(IsNext) vs −log P(y)")

    # the note's two clauses on sentence pairs (A, B) read by a tiny encoder: C = its [CLS] state
    embed = nn.Embedding(50, 16).to(device(), torch.float64)
    layer = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True).to(device(), torch.float64)
    CLS, SEP = torch.tensor([1], device=device()), torch.tensor([2], device=device())

    def encode(A, B):                                        # C: the final hidden state of [CLS] A [SEP] B [SEP]
        tokens = torch.cat([CLS, A.long(), SEP, B.long(), SEP])
        return layer(embed(tokens)[None])[0, 0]

    def p_theta(y_, A, B):
        # p_θ(· | A, B) = softmax(W_nsp C + b_nsp)
        distribution = evaluate_with("devlin2018bert/nsp-loss", {"W_nsp": W_nsp, "C": encode(A, B), "b_nsp": b_nsp},
                                     clause=1)
        return distribution if y_ is None else distribution[y_.long()]

    with torch.no_grad():
        for j in range(6):
            A, B = (torch.randint(3, 50, (n,), generator=g).to(device()) for n in (4 + j, 7 - j))
            # L_NSP = −log p_θ(y | A, B)
            L_NSP = evaluate_with("devlin2018bert/nsp-loss", {"y": y[j], "A": A, "B": B, "p_theta": p_theta}, clause=0)
            close(L_NSP, F.cross_entropy(encode(A, B) @ W_nsp.T + b_nsp, y[j]), f"L_NSP of pair {j} (y = {int(y[j])})")


@check("devlin2018bert/total-loss", tex=r"\mathcal{L} = \mathcal{L}_{MLM} + \mathcal{L}_{NSP}", evaluates=True)
def check_total_loss_and_its_gradient():
    """L = L_MLM + L_NSP on one batch (T: (4, 24, 16), C = T[:, 0]): its value against the two
    F.cross_entropy means, and autograd's ∂L/∂T against the closed form
    ∂L/∂T_i = W_outᵀ(p_i − e_{x_i})/|M| at i ∈ M, plus W_nspᵀ(q − e_y)/B at [CLS]."""
    g = seed(14)
    T, x, M, W_out, b_out = mlm_setup(g)
    B, n, H = T.shape
    W_nsp, b_nsp = randn(g, 2, H), randn(g, 2)
    y = torch.tensor([0, 1, 1, 0], device=device())
    T = T.requires_grad_(True)
    # L = L_MLM + L_NSP
    L = evaluate("devlin2018bert/total-loss", L_MLM=mlm_loss(T, x, M, W_out, b_out), L_NSP=nsp_loss(T[:, 0], y, W_nsp, b_nsp))
    (dL_dT,) = torch.autograd.grad(L, T)
    T = T.detach()
    logits, nsp_logits = T @ W_out.T + b_out, T[:, 0] @ W_nsp.T + b_nsp
    reference = F.cross_entropy(logits[M], x[M]) + F.cross_entropy(nsp_logits, y)
    close(L.detach(), reference, "L_MLM + L_NSP")
    expected = torch.zeros_like(T)
    expected[M] = (logits[M].softmax(-1) - F.one_hot(x[M], logits.shape[-1])) @ W_out / M.sum()
    expected[:, 0] += (nsp_logits.softmax(-1) - F.one_hot(y, 2)) @ W_nsp / B
    close(dL_dT, expected, "∂L/∂T")


@check("devlin2018bert/span-start", tex=r"P^{start}_i = \frac{\exp(S \cdot T_i)}{\sum_j \exp(S \cdot T_j)}", evaluates=True)
def check_span_start_softmax():
    """T: (40, 16) passage hidden states, S, E: (16,): against torch.softmax; the training term
    −log P^start at the true start against F.cross_entropy; and span scores S·T_i + E·T_j rank spans as
    P^start_i P^end_j does (they differ by a constant in log space)."""
    g = seed(15)
    T, S, E = randn(g, 40, 16), randn(g, 16), randn(g, 16)
    # P^start_i = exp(S·T_i) / Σ_j exp(S·T_j), from the note's LaTeX for every i (· the dot product, T_i row i)
    P_start = torch.stack([evaluate_with("devlin2018bert/span-start", {"S": S, "T": T, "i": i}, dot=True)
                           for i in range(1, len(T) + 1)])
    P_end = torch.exp(T @ E) / torch.exp(T @ E).sum()
    close(P_start, torch.softmax(T @ S, dim=0), "P^start")
    start = torch.tensor([7], device=device())
    close(-P_start[start].log(), F.cross_entropy((T @ S)[None], start, reduction="none"), "−log P^start at the true start")
    score = (T @ S)[:, None] + (T @ E)[None, :]                  # S·T_i + E·T_j
    log_joint = P_start.log()[:, None] + P_end.log()[None, :]
    shift = score - log_joint
    close(shift, shift[0, 0].expand_as(shift), "span score − log(P^start_i P^end_j) is constant")


if __name__ == "__main__":
    run_checks(__name__)
