"""Checks for notes/brown2020language.md: the parameter count of the eight GPT-3 sizes (and GPT-2's largest),
the 12·n_layer·d_model² shortcut, training compute 6ND, and the length-normalised in-context score.

References: nn.TransformerEncoderLayer / nn.Embedding / nn.LayerNorm built on device="meta",
torch.utils.flop_counter.FlopCounterMode on a forward and backward pass, and F.cross_entropy on a toy
causal language model.
"""
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from harness import check, close, device, differs, evaluate, run_checks, seed

f64 = torch.float64
meta = torch.device("meta")
n_vocab, n_ctx = 50257, 2048

# (n_layer, d_model, the note's count, the paper's size)
SIZES = {"Small": (12, 768, 125.2e6, 125e6), "Medium": (24, 1024, 355.9e6, 350e6),
         "Large": (24, 1536, 760.3e6, 760e6), "XL": (24, 2048, 1.316e9, 1.3e9),
         "2.7B": (32, 2560, 2.652e9, 2.7e9), "6.7B": (32, 4096, 6.658e9, 6.7e9),
         "13B": (40, 5140, 12.953e9, 13e9), "175B": (96, 12288, 174.60e9, 175.0e9)}

def gpt_count(n_layer, d_model, vocab=n_vocab, ctx=n_ctx):
    """One pre-LN block (same parameters as nn.TransformerEncoderLayer: QKV + output projection with
    biases, FFN d → 4d → d, two LayerNorms) times n_layer, plus token/position tables and the final
    LayerNorm; the output layer is tied. Modules on the meta device; the head count does not matter."""
    block = nn.TransformerEncoderLayer(d_model, 1, 4 * d_model, device=meta)
    tables = [nn.Embedding(rows, d_model, _weight=torch.empty(rows, d_model, device=meta)) for rows in (vocab, ctx)]
    final_norm = nn.LayerNorm(d_model, device=meta)
    per_block = sum(p.numel() for p in block.parameters())
    return n_layer * per_block + sum(p.numel() for m in tables + [final_norm] for p in m.parameters())


@check("brown2020language/param-count",
       tex=r"P = 12 \cdot n_{layer} \cdot d_{model}^2 + 13 \cdot n_{layer} \cdot d_{model} + \left(n_{vocab} + n_{ctx}\right) \cdot d_{model} + 2 \cdot d_{model}",
       evaluates=True)
def check_parameter_counts():
    """The eight sizes of the paper's Table 2.1 and GPT-2's largest model (48 × 1600, context 1024): the
    note's formula against meta modules, the note's table, and the paper's sizes within 2%."""
    for name, (n_layer, d_model, noted, paper) in SIZES.items():
        counted = gpt_count(n_layer, d_model)
        P = evaluate("brown2020language/param-count", n_layer=n_layer, d_model=d_model, n_vocab=n_vocab, n_ctx=n_ctx)
        close(P, counted, f"GPT-3 {name}: formula vs modules", rtol=0, atol=0)
        close(counted, noted, f"GPT-3 {name}: note's table", rtol=6e-4, atol=0)
        close(counted, paper, f"GPT-3 {name}: paper's size within 2%", rtol=0.02, atol=0)
    gpt2 = gpt_count(48, 1600, ctx=1024)
    close(gpt2, evaluate("brown2020language/param-count", n_layer=48, d_model=1600, n_vocab=n_vocab, n_ctx=1024),
          "GPT-2 1.5B: formula vs modules", rtol=0, atol=0)
    close(gpt2, 1.558e9, "GPT-2 largest: 1.558B", rtol=3e-4, atol=0)
    close(round(gpt_count(96, 12288) / gpt2), 112, "GPT-3 is about 112 times GPT-2", rtol=0, atol=0)


@check("brown2020language/param-approx", tex=r"P_{approx} = 12 \cdot n_{layer} \cdot d_{model}^2 + n_{vocab} \cdot d_{model}",
       evaluates=True)
def check_shortcut():
    """175B: the shortcut gives 174.56B, within 0.03% of the exact count; for GPT-3 Small the dropped terms
    (position table, biases, norms) matter more but stay under 2%."""
    approx = evaluate("brown2020language/param-approx", n_layer=96, d_model=12288, n_vocab=n_vocab)
    exact = gpt_count(96, 12288)
    close(approx, 174.56e9, "shortcut for 175B", rtol=1e-4, atol=0)
    close(approx, exact, "shortcut vs exact count (175B)", rtol=3e-4, atol=0)
    small = evaluate("brown2020language/param-approx", n_layer=12, d_model=768, n_vocab=n_vocab)
    close(small, gpt_count(12, 768), "shortcut vs exact count (Small)", rtol=0.02, atol=0)
    differs(small, gpt_count(12, 768), "the shortcut is not exact", at_least=1e5)


@check("brown2020language/compute", tex=r"C = 6 \cdot N \cdot D", evaluates=True)
def check_training_compute():
    """6ND for N = 174.6e9, D = 300e9 is 3.14e23. And FlopCounterMode on a stack of bias-free linear layers
    (N weights, D = 64 tokens, forward + backward with the input requiring grad) counts exactly 6ND."""
    close(evaluate("brown2020language/compute", N=174.6e9, D=300e9), 3.14e23, "C for GPT-3 175B", rtol=2e-3, atol=0)
    seed(0)
    widths = [48, 192, 48, 96, 48]
    layers = nn.Sequential(*[nn.Linear(a, b, bias=False) for a, b in zip(widths[:-1], widths[1:])])
    N = sum(p.numel() for p in layers.parameters())
    D = 64
    x = torch.randn(D, widths[0], requires_grad=True)
    with FlopCounterMode(display=False) as counter:
        layers(x).square().sum().backward()
    close(counter.get_total_flops(), evaluate("brown2020language/compute", N=N, D=D), "FLOPs of forward + backward",
          rtol=0, atol=0)


@check("brown2020language/score",
       tex=r"\operatorname{score}(y) = \frac{1}{|y|} \sum_{t=1}^{|y|} \log p_\theta\left(y_t \mid c, x, y_{<t}\right)",
       evaluates=True)
def check_length_normalised_score():
    """A toy causal LM (embedding, one causally masked self-attention layer, tied output), |V| = 30, a 20-token
    prompt c + x and candidates of 3 and 7 tokens: the score equals −F.cross_entropy(mean) over the candidate's
    tokens, each predicted from the position before it; the unnormalised sum is a different score."""
    V, d = 30, 16
    seed(1)
    embed = nn.Embedding(V, d, dtype=f64).to(device())
    block = nn.TransformerEncoderLayer(d, 2, 32, dropout=0.0, batch_first=True, norm_first=True, dtype=f64).to(device())
    g = seed(2)
    prompt = torch.randint(V, (20,), generator=g).to(device())

    def log_probs(tokens):
        n = tokens.numel()
        causal = torch.ones(n, n, dtype=torch.bool, device=device()).tril().logical_not()
        h = block(embed(tokens)[None], src_mask=causal)[0]
        return torch.log_softmax(h @ embed.weight.T, -1)            # row t: p(· | tokens_≤t)

    c, x = prompt[:14], prompt[14:]                                   # in-context examples c, the question x

    def p_theta(y_t, c, x, y_before):                                 # p_θ(y_t | c, x, y_<t): the LM on c, x, y_<t alone
        tokens = torch.cat([c, x, y_before]).long()
        return log_probs(tokens)[-1, y_t.long()].exp()

    with torch.no_grad():
        for length in (3, 7):
            y = torch.randint(V, (length,), generator=g).to(device())
            sequence = torch.cat([prompt, y])
            lp = log_probs(sequence)
            rows = torch.arange(prompt.numel() - 1, sequence.numel() - 1, device=device())
            # score(y) = 1/|y| Σ_{t=1}^{|y|} log p_θ(y_t | c, x, y_<t), y a list so |y| is its length
            score = evaluate("brown2020language/score", y=y.tolist(), c=c, x=x, p_theta=p_theta)
            logits = torch.log(lp[rows].exp())                       # any logits with the same softmax
            close(score, -F.cross_entropy(logits, y, reduction="mean"), f"score of a {length}-token candidate")
            differs(lp[rows, y].sum(), score, "sum of log-probabilities vs per-token mean")


if __name__ == "__main__":
    run_checks(__name__)
