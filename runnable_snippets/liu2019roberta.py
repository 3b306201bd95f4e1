"""Checks for notes/liu2019roberta.md: the post-LN encoder layer (and the blog's loose two-equation form),
the 80/10/10 corruption of a selected token, and how many positions static and dynamic masking ever
select for prediction.

References: nn.TransformerEncoderLayer(norm_first=False, gelu) against the layer written with
F.scaled_dot_product_attention and F.layer_norm; an exact enumeration of the branches of Hugging Face's
masking collator; and a simulation of BERT's 10-copy static masking and RoBERTa's
per-epoch masking over 40 epochs.
"""
from fractions import Fraction
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from harness import check, close, device, differs, evaluate, evaluate_with, run_checks, seed

f64 = torch.float64
H_SIZE, HEADS = 32, 4


def encoder_layer():
    seed(0)
    return nn.TransformerEncoderLayer(H_SIZE, HEADS, 4 * H_SIZE, dropout=0.0, activation="gelu", batch_first=True,
                                      norm_first=False).to(device(), f64).eval()


def multi_head(layer, x):
    """Self-attention over all positions with the layer's own projections; x: (B, n, H)."""
    q, k, v = (t.unflatten(-1, (HEADS, -1)).transpose(1, 2)
               for t in F.linear(x, layer.self_attn.in_proj_weight, layer.self_attn.in_proj_bias).chunk(3, -1))
    return layer.self_attn.out_proj(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).flatten(2))


def ffn(layer, x):
    return layer.linear2(F.gelu(layer.linear1(x)))


def layer_norm(norm, x):
    return F.layer_norm(x, (H_SIZE,), norm.weight, norm.bias, norm.eps)


@check("liu2019roberta/post-ln-layer",
       tex=r"\tilde H^{l} = \operatorname{LayerNorm}\left(H^{l-1} + \operatorname{MultiHead}(H^{l-1})\right), \qquad H^{l} = \operatorname{LayerNorm}\left(\tilde H^{l} + \operatorname{FFN}(\tilde H^{l})\right)",
       evaluates=True)
def check_post_ln_layer_against_torch():
    """H^{l-1}: (2, 10, 32): the two sub-layers written out against nn.TransformerEncoderLayer(norm_first=False,
    gelu) with the same weights; the pre-LN ordering differs."""
    layer = encoder_layer()
    H_prev = torch.randn(2, 10, H_SIZE, generator=seed(1), dtype=f64).to(device())
    with torch.no_grad():
        # H̃^l = LayerNorm(H^{l-1} + MultiHead(H^{l-1}));  H^l = LayerNorm(H̃^l + FFN(H̃^l))
        H_tilde = layer_norm(layer.norm1, H_prev + multi_head(layer, H_prev))
        H = layer_norm(layer.norm2, H_tilde + ffn(layer, H_tilde))
        close(H, layer(H_prev), "post-LN layer")
        # the same two clauses evaluated from the note's LaTeX, H^{l-1} and H̃^l passed under their labelled names
        H_tilde_note = evaluate_with("liu2019roberta/post-ln-layer", {"H^l-1": H_prev, "LayerNorm": partial(layer_norm, layer.norm1),
                                                                      "MultiHead": partial(multi_head, layer)}, clause=0)
        H_note = evaluate_with("liu2019roberta/post-ln-layer", {"Htilde^l": H_tilde_note, "LayerNorm": partial(layer_norm, layer.norm2),
                                                                "FFN": partial(ffn, layer)}, clause=1)
        close(H_note, layer(H_prev), "post-LN layer from the note's LaTeX vs nn.TransformerEncoderLayer")
        layer.norm_first = True
        differs(layer(H_prev), H, "pre-LN ordering")


@check("liu2019roberta/misstatement-layer",
       tex=r"H^l = \operatorname{LayerNorm}\left(H^{l-1} + A^l\right), \qquad F^l = \operatorname{LayerNorm}\left(H^l + \operatorname{FFN}\left(H^l\right)\right)")
def check_blog_form_only_with_the_right_output():
    """The blog's two equations taken literally with A^l = MultiHead(H^{l-1}) through two stacked layers:
    passing F^l on reproduces the encoder; passing H^l on (skipping the FFN sub-layers) does not."""
    first, second = encoder_layer(), encoder_layer()
    with torch.no_grad():
        for p in second.parameters():
            p.add_(0.1 * torch.randn(p.shape, generator=seed(2), dtype=f64).to(device()))
        X = torch.randn(2, 10, H_SIZE, generator=seed(3), dtype=f64).to(device())
        reference = second(first(X))

        def blog_layer(layer, H_prev):
            A = multi_head(layer, H_prev)                                    # A^l = MultiHead(H^{l-1})
            H = layer_norm(layer.norm1, H_prev + A)                          # H^l = LN(H^{l-1} + A^l)
            return H, layer_norm(layer.norm2, H + ffn(layer, H))             # F^l = LN(H^l + FFN(H^l))

        _, F_1 = blog_layer(first, X)
        _, F_2 = blog_layer(second, F_1)
        close(F_2, reference, "F^l passed on: the encoder")
        H_1, _ = blog_layer(first, X)
        H_2, _ = blog_layer(second, H_1)
        differs(H_2, reference, "H^l passed on instead of F^l")


def collator_distribution(x, vocab, MASK):
    """Exact P(x̃_i = v | x_i = x, i selected) for v in 0..|V|-1, by enumerating the branches of Hugging Face's
    DataCollatorForLanguageModeling (which RoBERTa's dynamic masking follows) as its documentation describes
    them: <mask> when a Bernoulli(0.8) draw says so; otherwise, when a second Bernoulli(0.5) draw says so, a
    token drawn uniformly from the whole vocabulary; otherwise unchanged. Exact fractions, no sampling."""
    p = [Fraction(0)] * vocab
    replaced, randomised = Fraction(8, 10), Fraction(5, 10)
    p[MASK] += replaced                                            # branch 1: <mask>
    for v in range(vocab):                                         # branch 2: a random word
        p[v] += (1 - replaced) * randomised / vocab
    p[x] += (1 - replaced) * (1 - randomised)                      # branch 3: unchanged
    return torch.tensor([float(q) for q in p], dtype=f64)


@check("liu2019roberta/masking",
       tex=r"\tilde x_i = \begin{cases} \texttt{<mask>} & \text{with probability } 0.8 \\ u_i \sim \operatorname{Uniform}(\mathcal{V}) & \text{with probability } 0.1 \\ x_i & \text{with probability } 0.1 \end{cases}")
def check_masking_against_the_collator_enumerated():
    """|V| = 10 (id 9 is <mask>): for every ordinary token x, the note's three cases as a distribution over x̃_i
    (0.8 on <mask>, 0.1 spread uniformly over V, 0.1 on x) against the exact distribution of Hugging Face's
    collator, enumerated branch by branch; a 0.8 / 0.2 split with no random words differs."""
    vocab, MASK = 10, 9
    on_mask = F.one_hot(torch.tensor(MASK), vocab).to(f64)
    for x in range(vocab - 1):
        on_x = F.one_hot(torch.tensor(x), vocab).to(f64)
        # x̃_i = <mask> w.p. 0.8;  u_i ~ Uniform(V) w.p. 0.1;  x_i w.p. 0.1
        cases = 0.8 * on_mask + 0.1 * torch.full((vocab,), 1 / vocab, dtype=f64) + 0.1 * on_x
        close(cases, collator_distribution(x, vocab, MASK), f"P(x̃_i | x_i = {x}, selected)")
    differs(0.8 * on_mask + 0.2 * on_x, collator_distribution(x, vocab, MASK), "80% <mask> and 20% unchanged")


@check("liu2019roberta/static-coverage", tex=r"q_{static} = 1 - (1 - p)^{D}", evaluates=True)
@check("liu2019roberta/dynamic-coverage", tex=r"q_{dynamic} = 1 - (1 - p)^{E}", evaluates=True)
def check_coverage_by_simulation():
    """200,000 positions over E = 40 epochs, p = 0.15. Static: D = 10 pre-masked copies used in turn (each seen
    4 times). Dynamic: a fresh mask per epoch. The fraction of positions ever selected matches the formulas
    within 5 standard errors (≈ 0.803 and ≈ 0.9985)."""
    n, p, D, E = 200_000, 0.15, 10, 40
    g = seed(5)
    copies = torch.rand(D, n, generator=g) < p                             # BERT: masks fixed in preprocessing
    schedule = torch.arange(E) % D                                          # epoch e trains on copy e mod D
    close(torch.bincount(schedule, minlength=D).double(), torch.full((D,), 4.0, dtype=f64), "each static mask seen 4 times",
          rtol=0, atol=0)
    static = copies[schedule].any(0).double().mean()
    dynamic = (torch.rand(E, n, generator=g) < p).any(0).double().mean()    # RoBERTa: a new mask per epoch
    # q_static = 1 − (1 − p)^D,  q_dynamic = 1 − (1 − p)^E
    q_static = evaluate("liu2019roberta/static-coverage", p=p, D=D)
    q_dynamic = evaluate("liu2019roberta/dynamic-coverage", p=p, E=E)
    close(static, q_static, "static coverage", rtol=0, atol=5 * float(q_static * (1 - q_static) / n) ** 0.5)
    close(dynamic, q_dynamic, "dynamic coverage", rtol=0, atol=5 * float(q_dynamic * (1 - q_dynamic) / n) ** 0.5)
    close(q_static, 0.80, "≈ 80% (note)", rtol=0, atol=0.005)
    close(q_dynamic, 0.998, "≈ 99.8% (note)", rtol=0, atol=0.001)


if __name__ == "__main__":
    run_checks(__name__)
