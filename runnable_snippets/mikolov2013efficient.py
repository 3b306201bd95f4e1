"""Checks for notes/mikolov2013efficient.md: the per-example training costs Q of the NNLM, the RNNLM, CBOW
and skip-gram, the total cost O = E × T × Q, the analogy search, the skip-gram objective and softmax, the
hierarchical softmax, and the phrase-mean heuristic.

References: multiply-adds counted from the operand shapes of every matrix product the actual modules run
and the values each projection reads (a TorchFunctionMode that sees each F.linear, matmul, F.embedding and
F.embedding_bag call) while nn.Embedding / nn.EmbeddingBag
projections, nn.Linear layers and a hierarchical-softmax path through a binary tree run; F.cosine_similarity, torch.softmax, F.cross_entropy, a Huffman tree built with heapq
(Shannon's bound on its mean code length), and nn.EmbeddingBag(mode="mean").
"""
import heapq
import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

from harness import check, close, device, differs, evaluate, evaluate_with, run_checks, seed

f64 = torch.float64

class MultiplyAddCounter(TorchFunctionMode):
    """Sees every torch call made inside it; adds up the multiply-adds of F.linear and matrix products from the
    shapes of their operands (x: (..., k) times a (k, m) matrix costs rows(x) · k · m), and the values a
    projection layer reads: F.embedding / F.embedding_bag over n ids of a (V, D) table read n · D values."""
    MATMULS = (torch.matmul, torch.mm, torch.mv, torch.Tensor.matmul, torch.Tensor.__matmul__, torch.Tensor.mm)

    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in (F.embedding, F.embedding_bag):
            ids, table = args[0], args[1]                       # table: (V, D)
            self.count += ids.numel() * table.shape[1]
        elif func is F.linear:
            x, weight = args[0], args[1]                        # weight: (out, in)
            self.count += x.numel() // x.shape[-1] * weight.shape[1] * weight.shape[0]
        elif func in self.MATMULS:
            a, b = args[0], args[1]                             # b: (k,) or (k, m)
            self.count += a.numel() // a.shape[-1] * b.shape[0] * (b.shape[-1] if b.dim() > 1 else 1)
        return func(*args, **(kwargs or {}))


def multiply_adds(fn):
    """Run fn() and count the multiply-adds of the matrix products and the projected values it runs.
    Returns (result, count)."""
    with MultiplyAddCounter() as counter:
        result = fn()
    return result, counter.count


def balanced_tree_paths(V, words=None):
    """Complete binary tree over V = 2^k leaves in heap order (root 1, children 2n and 2n+1, word w at leaf
    V + w). For each word (all V unless given): inner nodes n(w, 1..L-1) as 0-based rows of the inner-vector table (V - 1 rows),
    and the signs [[n(w, j+1) = ch(n(w, j))]] with ch(n) = 2n (left child -> +1, right child -> -1)."""
    nodes, signs = [], []
    for w in (range(V) if words is None else words):
        child, path, sign = V + w, [], []
        while child > 1:
            parent = child // 2
            path.append(parent - 1)
            sign.append(1.0 if child == 2 * parent else -1.0)
            child = parent
        nodes.append(path[::-1])
        signs.append(sign[::-1])
    return torch.tensor(nodes), torch.tensor(signs, dtype=f64)


def huffman_paths(counts):
    """Huffman tree over word counts (heapq): per word, its inner nodes (0-based) and signs from the root."""
    heap = [(c, i, ("leaf", i)) for i, c in enumerate(counts)]
    heapq.heapify(heap)
    parent, next_inner, tie = {}, 0, len(counts)
    while len(heap) > 1:
        c_a, _, a = heapq.heappop(heap)
        c_b, _, b = heapq.heappop(heap)
        node = ("inner", next_inner)
        parent[a], parent[b] = (node, 1.0), (node, -1.0)   # first popped child is ch(n): sign +1
        next_inner += 1
        heapq.heappush(heap, (c_a + c_b, tie, node))
        tie += 1
    paths = []
    for w in range(len(counts)):
        node, path = ("leaf", w), []
        while node in parent:
            up, sign = parent[node]
            path.append((up[1], sign))
            node = up
        paths.append(path[::-1])
    return paths, next_inner


def hs_probability(v_in, inner, nodes, signs):
    """p(w | w_I) for one word's path: v_in (D,), inner (V-1, D), nodes (L-1,), signs (L-1,)."""
    # p(w | w_I) = Π_j σ([[n(w, j+1) = ch(n(w, j))]] · v'_{n(w,j)}ᵀ v_{w_I})
    return torch.sigmoid(signs * (inner[nodes] @ v_in[:, None])[:, 0]).prod()


def cbow_cost(N, D, V, g):
    """Multiply-adds of one CBOW example, counted on the modules: the projection reads N context rows of D
    values (nn.EmbeddingBag, mean); the output is one path of log2 V inner-node dot products."""
    projection = nn.EmbeddingBag(V, D, mode="mean", dtype=f64)
    inner = nn.Embedding(V - 1, D, dtype=f64)
    context, target = torch.randint(V, (1, N), generator=g), int(torch.randint(V, (1,), generator=g))
    nodes, signs = balanced_tree_paths(V, [target])
    with torch.no_grad():
        # the projection (N context rows of D, averaged) and one path through the tree, both counted
        p, cost = multiply_adds(lambda: hs_probability(projection(context)[0], inner.weight, nodes[0], signs[0]))
    return cost, p


def skip_gram_cost(n_targets, D, V, g):
    """Multiply-adds of one skip-gram example with n_targets predicted neighbours: each costs one D-dim
    projection of the input word and one path through the tree."""
    projection = nn.Embedding(V, D, dtype=f64)
    inner = nn.Embedding(V - 1, D, dtype=f64)
    w_I = torch.randint(V, (1,), generator=g)
    targets = torch.randint(V, (n_targets,), generator=g).tolist()
    nodes, signs = balanced_tree_paths(V, targets)
    total = 0
    with torch.no_grad():
        for k in range(n_targets):
            # one D-dim projection of the input word and one path through the tree, both counted
            _, cost = multiply_adds(lambda: hs_probability(projection(w_I)[0], inner.weight, nodes[k], signs[k]))
            total += cost
    return total


@check("mikolov2013efficient/nnlm", tex=r"Q = N \times D + N \times D \times H + H \times V", evaluates=True)
def check_nnlm_cost_counted_on_modules():
    """NNLM with N=4, D=32, H=64, V=500: projection (nn.Embedding, N rows of D), hidden nn.Linear(N·D, H),
    output nn.Linear(H, V); the counted multiply-adds equal the note's Q."""
    N, D, H, V = 4, 32, 64, 500
    seed(0)
    embed, hidden, output = nn.Embedding(V, D, dtype=f64), nn.Linear(N * D, H, dtype=f64), nn.Linear(H, V, dtype=f64)
    context = torch.randint(V, (1, N))
    with torch.no_grad():
        # projection (N rows of D, concatenated to (1, N·D)), hidden layer and output layer, all counted
        _, counted = multiply_adds(lambda: output(torch.tanh(hidden(embed(context).flatten(1)))).softmax(-1))
    # Q = N × D + N × D × H + H × V
    close(evaluate("mikolov2013efficient/nnlm", N=N, D=D, H=H, V=V), counted, "NNLM multiply-adds", rtol=0, atol=0)


@check("mikolov2013efficient/rnnlm", tex=r"Q = H \times H + H \times V", evaluates=True)
def check_rnnlm_cost_counted_on_modules():
    """RNNLM step with H=48, V=700: the input word is a lookup (nn.Embedding(V, H)), the recurrence
    nn.Linear(H, H) and the output nn.Linear(H, V)."""
    H, V = 48, 700
    seed(1)
    U, W, output = nn.Embedding(V, H, dtype=f64), nn.Linear(H, H, bias=False, dtype=f64), nn.Linear(H, V, dtype=f64)
    h_prev, word = torch.zeros(1, H, dtype=f64), torch.tensor([3])
    with torch.no_grad():
        u = U(word)           # the input word's row: the paper's Q leaves this H-value lookup out
        _, counted = multiply_adds(lambda: output(torch.sigmoid(u + W(h_prev))).softmax(-1))
    # Q = H × H + H × V
    close(evaluate("mikolov2013efficient/rnnlm", H=H, V=V), counted, "RNNLM multiply-adds", rtol=0, atol=0)


@check("mikolov2013efficient/cbow", tex=r"Q = N \times D + D \times \log_2(V)", evaluates=True)
def check_cbow_cost_counted_on_a_tree_path():
    """CBOW with N=8 (four words each side), D=50 and V=1024 (a complete tree: log2 V = 10 levels); also
    D=300, V=2^12. The counted cost equals N·D + D·log2 V, and the path probability is a real probability."""
    g = seed(2)
    for N, D, V in [(8, 50, 1024), (8, 300, 2 ** 12)]:
        counted, p = cbow_cost(N, D, V, g)
        # Q = N × D + D × log2(V)
        close(evaluate("mikolov2013efficient/cbow", N=N, D=D, V=V), counted, f"CBOW multiply-adds (D={D}, V={V})",
              rtol=0, atol=0)
        close(float(0 < p < 1), 1.0, "0 < p(w | context) < 1", rtol=0, atol=0)


@check("mikolov2013efficient/skip-gram", tex=r"Q = C \times (D + D \times \log_2(V))", evaluates=True)
def check_skip_gram_cost_counted_on_tree_paths():
    """Skip-gram with D=64, V=512: C predicted neighbours each cost D + D·log2 V, for C = 2, 6, 10."""
    g = seed(3)
    for C in (2, 6, 10):
        # Q = C × (D + D × log2(V))
        close(evaluate("mikolov2013efficient/skip-gram", C=C, D=64, V=512), skip_gram_cost(C, 64, 512, g),
              f"skip-gram multiply-adds (C={C})", rtol=0, atol=0)


@check("mikolov2013efficient/misstatement-cbow", tex=r"Q = N \times D + N \times D \times \log_2(V)")
def check_misstated_cbow_cost_is_not_the_counted_cost():
    """N × D + N × D × log2 V counts N tree paths; CBOW makes one (N=8, D=50, V=1024)."""
    counted, _ = cbow_cost(8, 50, 1024, seed(4))
    differs(evaluate("mikolov2013efficient/misstatement-cbow", N=8, D=50, V=1024), counted,
            "N·D + N·D·log2 V vs counted CBOW cost")
    # the misstatement as quoted: N tree paths of D × log2 V each, counted as N times the one-path cost
    close(evaluate("mikolov2013efficient/misstatement-cbow", N=8, D=50, V=1024), 8 * 50 + 8 * (counted - 8 * 50),
          "the misstated form counts N = 8 tree paths", rtol=0, atol=0)
    close(evaluate("mikolov2013efficient/cbow", N=8, D=50, V=1024), counted, "the paper's form matches", rtol=0, atol=0)


@check("mikolov2013efficient/training-cost", tex=r"O = E \times T \times Q", evaluates=True)
def check_total_cost_over_epochs():
    """E=3 epochs over a T=12-word corpus, adding the counted CBOW cost (N=4, D=16, V=64) of every word."""
    E, T, N, D, V = 3, 12, 4, 16, 64
    g = seed(5)
    total = 0
    for _ in range(E):
        for _ in range(T):
            total += cbow_cost(N, D, V, g)[0]
    Q = float(evaluate("mikolov2013efficient/cbow", N=N, D=D, V=V))
    # O = E × T × Q
    close(evaluate("mikolov2013efficient/training-cost", E=E, T=T, Q=Q), total, "O over all epochs", rtol=0, atol=0)


@check("mikolov2013efficient/hierarchical-softmax", tex=(r"p(w \mid w_I) = \prod_{j=1}^{L(w)-1} \sigma\left( [\![ n(w, j+1) = \operatorname{ch}(n(w, j)) ]\!] "
            r"\cdot {v'_{n(w,j)}}^\top v_{w_I} \right)"))
def check_hierarchical_softmax_is_normalised():
    """Complete tree over V=256 and a Huffman tree over V=1000 Zipf counts, D=24: Σ_w p(w | w_I) = 1 for
    several inputs; the complete tree's paths have log2 V nodes; the Huffman mean code length lies within
    Shannon's bounds [H, H + 1), H = log2(unigram perplexity)."""
    g = seed(6)
    D, V = 24, 256
    inner = torch.randn(V - 1, D, generator=g, dtype=f64)
    nodes, signs = balanced_tree_paths(V)
    close(nodes.shape[1], math.log2(V), "path length of a complete tree = log2 V", rtol=0, atol=0)
    for _ in range(3):
        v_in = torch.randn(D, generator=g, dtype=f64)
        total = sum(hs_probability(v_in, inner, nodes[w], signs[w]) for w in range(V))
        close(total, 1.0, "Σ_w p(w | w_I), complete tree")

    V = 1000
    counts = (1e6 / torch.arange(1, V + 1, dtype=f64)).round().tolist()          # Zipf's law
    paths, n_inner = huffman_paths(counts)
    close(n_inner, V - 1, "a binary tree over V leaves has V − 1 inner nodes", rtol=0, atol=0)
    inner = torch.randn(n_inner, D, generator=g, dtype=f64)
    v_in = torch.randn(D, generator=g, dtype=f64)
    total = sum(hs_probability(v_in, inner, torch.tensor([n for n, _ in p]), torch.tensor([s for _, s in p], dtype=f64))
                for p in paths)
    close(total, 1.0, "Σ_w p(w | w_I), Huffman tree")
    q = torch.tensor(counts, dtype=f64) / sum(counts)
    entropy = float(-(q * q.log2()).sum())
    mean_length = float(sum(qi * len(p) for qi, p in zip(q.tolist(), paths)))
    close(mean_length, entropy + 0.5, "H ≤ mean Huffman path length < H + 1", rtol=0, atol=0.5)


@check("mikolov2013efficient/skip-gram-softmax", tex=(r"p(w_O \mid w_I) = \frac{\exp\left({v'_{w_O}}^\top v_{w_I}\right)}{\sum_{w=1}^{W} "
            r"\exp\left({v'_{w}}^\top v_{w_I}\right)}"), evaluates=True)
@check("mikolov2013efficient/skip-gram-objective", tex=r"\frac{1}{T} \sum_{t=1}^{T} \sum_{-c \le j \le c,\, j \ne 0} \log p(w_{t+j} \mid w_t)",
       evaluates=True)
def check_skip_gram_softmax_and_objective():
    """W=40 words, D=12, input vectors v (W, D) and output vectors v' (W, D): p(w_O | w_I) against
    torch.softmax; the objective on a T=30 corpus with c=2 against −F.cross_entropy(sum) / T."""
    W, D, T, c = 40, 12, 30, 2
    g = seed(7)
    v, v_out = torch.randn(W, D, generator=g, dtype=f64), torch.randn(W, D, generator=g, dtype=f64)
    corpus = torch.randint(W, (T,), generator=g)

    def p(w_O, w_I):
        # p(w_O | w_I) = exp(v'_{w_O}ᵀ v_{w_I}) / Σ_w exp(v'_wᵀ v_{w_I})
        return torch.exp(v_out[w_O] @ v[w_I]) / torch.exp(v_out @ v[w_I]).sum()

    table = torch.stack([torch.stack([p(o, i) for o in range(W)]) for i in range(W)])   # (W_I, W_O)
    close(table, torch.softmax(v @ v_out.T, dim=-1), "p(w_O | w_I) for all pairs")
    # the note's formula itself, evaluated for 5 input words and every output word (words counted from 1)
    evaluated = torch.stack([torch.stack([evaluate("mikolov2013efficient/skip-gram-softmax", **{"v'": v_out}, v=v, W=W,
                                                   w_O=o + 1, w_I=i + 1) for o in range(W)]) for i in range(5)])
    close(evaluated, torch.softmax(v[:5] @ v_out.T, dim=-1), "p(w_O | w_I) evaluated from the note")

    # (1/T) Σ_{t=1}^{T} Σ_{−c ≤ j ≤ c, j ≠ 0} log p(w_{t+j} | w_t), evaluated from the note. The corpus w_1..w_T is
    # passed padded with c pad words (−1) on each side (index_base = 1 − c, so w_1 is the first real word);
    # p(pad | w_I) = 1 contributes log 1 = 0, which is how the sum skips t + j outside the corpus.
    padded = torch.cat([torch.full((c,), -1), corpus, torch.full((c,), -1)])
    p_or_pad = lambda w_O, w_I: torch.ones((), dtype=f64) if int(w_O) < 0 else p(int(w_O), int(w_I))  # noqa: E731
    objective = evaluate_with("mikolov2013efficient/skip-gram-objective", {"T": T, "c": c, "w": padded, "p": p_or_pad},
                              index_base=1 - c)
    inputs = torch.tensor([t for t in range(T) for j in range(-c, c + 1) if j != 0 and 0 <= t + j < T])
    outputs = torch.tensor([t + j for t in range(T) for j in range(-c, c + 1) if j != 0 and 0 <= t + j < T])
    logits = v[corpus[inputs]] @ v_out.T
    close(objective, -F.cross_entropy(logits, corpus[outputs], reduction="sum") / T, "skip-gram objective")


@check("mikolov2013efficient/analogy", tex=(r"\hat w = \arg\max_{w \notin \{\text{King}, \text{Man}, \text{Woman}\}} \frac{x^\top v_w}{\lVert x \rVert \, \lVert v_w \rVert}, "
            r"\qquad x = v_{\text{King}} - v_{\text{Man}} + v_{\text{Woman}}"), evaluates=True)
def check_analogy_search():
    """Toy vectors (D=20) with a 'royalty' and a 'gender' direction plus 200 distractors: the hand-written
    cosine equals F.cosine_similarity, King − Man + Woman finds Queen, and Queen − Woman + Man finds King
    (the slide deck's form), each with the question words excluded."""
    g = seed(8)
    D = 20
    person, royal, gender = (torch.randn(D, generator=g, dtype=f64) for _ in range(3))
    words = ["King", "Queen", "Man", "Woman"]
    base = torch.stack([person + royal + gender, person + royal - gender, person + gender, person - gender])
    vectors = torch.cat([base + 0.05 * torch.randn(4, D, generator=g, dtype=f64),
                         2 * torch.randn(200, D, generator=g, dtype=f64)]).to(device())
    index = {w: i for i, w in enumerate(words)}

    def answer(a, b, c):
        x = vectors[index[a]] - vectors[index[b]] + vectors[index[c]]
        # x^T v_w / (‖x‖ ‖v_w‖)
        cosine = vectors @ x / (x.norm() * vectors.norm(dim=1))
        close(cosine, F.cosine_similarity(x[None], vectors, dim=1), "cosine similarity")
        cosine[[index[a], index[b], index[c]]] = float("-inf")              # question words left out
        return int(cosine.argmax())

    close(answer("King", "Man", "Woman"), index["Queen"], "King − Man + Woman → Queen", rtol=0, atol=0)
    # x = v_King − v_Man + v_Woman;  ŵ = argmax_{w ∉ {King, Man, Woman}} xᵀv_w / (‖x‖ ‖v_w‖), from the note's
    # LaTeX (words numbered from 1, the word names bound to their numbers)
    named = {"v": vectors, **{w: i + 1 for w, i in index.items()}}
    x = evaluate_with("mikolov2013efficient/analogy", named, clause=1)
    close(x, vectors[index["King"]] - vectors[index["Man"]] + vectors[index["Woman"]], "x from the note's LaTeX")
    w_hat = evaluate_with("mikolov2013efficient/analogy", {**named, "x": x}, clause=0)
    cosine = F.cosine_similarity(x[None], vectors, dim=1).index_fill(0, torch.tensor([0, 2, 3], device=device()), -2.0)
    close(w_hat, cosine.argmax() + 1, "ŵ from the note's LaTeX against argmax of F.cosine_similarity without the question words",
          rtol=0, atol=0)
    close(w_hat, index["Queen"] + 1, "ŵ from the note's LaTeX is Queen", rtol=0, atol=0)
    close(answer("Queen", "Woman", "Man"), index["King"], "Queen − Woman + Man → King", rtol=0, atol=0)


@check("mikolov2013efficient/phrase-mean", tex=r"v_P = \frac{1}{|P|} \sum_{w \in P} v_w", evaluates=True)
def check_phrase_mean_against_embedding_bag():
    """E: (100, 16); three phrases of 2, 3 and 5 words: the mean of the rows against nn.EmbeddingBag(mean)."""
    g = seed(9)
    E = torch.randn(100, 16, generator=g, dtype=f64)
    bag = nn.EmbeddingBag.from_pretrained(E, mode="mean")
    for P in ([3, 17], [5, 5, 90], [1, 2, 3, 4, 99]):
        idx = torch.tensor(P)
        # v_P = (1/|P|) Σ_{w ∈ P} v_w
        v_P = evaluate("mikolov2013efficient/phrase-mean", v=E, P=[w + 1 for w in P])     # words counted from 1
        close(v_P, bag(idx[None])[0], f"mean of {len(P)} word vectors")


if __name__ == "__main__":
    run_checks(__name__)
