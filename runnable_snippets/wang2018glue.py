"""Checks for notes/wang2018glue.md: the Matthews correlation, F1, Pearson and Spearman correlations, and
the GLUE macro-average.

References: a confusion matrix built with torch.bincount and the confusion-matrix (Gorodkin) form of the
Matthews correlation; torch.corrcoef (MCC is the Pearson correlation of the 0/1 vectors; Spearman is the
Pearson correlation of the ranks); counts-based F1 = 2TP / (2TP + FP + FN); and the GLUE leaderboard's
published scores for the macro-average. numpy/torch only, no sklearn.
"""
import torch

from harness import check, close, differs, evaluate, run_checks, seed

f64 = torch.float64


def confusion(y_true, y_pred, K=2):
    """C[i, j] = number of items with true class i predicted as j, via torch.bincount."""
    return torch.bincount(y_true * K + y_pred, minlength=K * K).reshape(K, K).to(f64)


def mcc_from_confusion(C):
    """Gorodkin's K-class form: (c·s − Σ_k p_k t_k) / √((s² − Σ p_k²)(s² − Σ t_k²)), c = trace, s = total,
    p_k = predicted counts (column sums), t_k = true counts (row sums)."""
    c, s = C.trace(), C.sum()
    p, t = C.sum(0), C.sum(1)
    return (c * s - (p * t).sum()) / torch.sqrt((s ** 2 - (p ** 2).sum()) * (s ** 2 - (t ** 2).sum()))


def binary_problem(g, n, positive_rate, accuracy):
    """Labels with the given positive rate; predictions that copy the label with probability `accuracy`."""
    y_true = (torch.rand(n, generator=g) < positive_rate).long()
    keep = torch.rand(n, generator=g) < accuracy
    y_pred = torch.where(keep, y_true, (torch.rand(n, generator=g) < positive_rate).long())
    return y_true, y_pred


@check("wang2018glue/mcc",
       tex=r"\mathrm{MCC} = \frac{n_{tp} \cdot n_{tn} - n_{fp} \cdot n_{fn}}{\sqrt{(n_{tp} + n_{fp}) \cdot (n_{tp} + n_{fn}) \cdot (n_{tn} + n_{fp}) \cdot (n_{tn} + n_{fn})}}",
       evaluates=True)
def check_matthews_correlation():
    """Unbalanced labels (30% positive, n = 2000) and three predictors: the note's formula on the bincount
    confusion matrix against the confusion-matrix (Gorodkin) form and against torch.corrcoef of the 0/1
    vectors; a perfect predictor gives 1, an inverted one −1, and an independent one ≈ 0 (n = 10^6, within
    5/√n)."""
    g = seed(0)
    for accuracy in (0.9, 0.6, 0.2):
        y_true, y_pred = binary_problem(g, 2000, 0.3, accuracy)
        C = confusion(y_true, y_pred)
        TN, FP, FN, TP = C[0, 0], C[0, 1], C[1, 0], C[1, 1]
        mcc = evaluate("wang2018glue/mcc", n_tp=TP, n_tn=TN, n_fp=FP, n_fn=FN)
        close(mcc, mcc_from_confusion(C), f"MCC vs confusion-matrix form (copy rate {accuracy})")
        close(mcc, torch.corrcoef(torch.stack([y_true, y_pred]).to(f64))[0, 1], f"MCC vs Pearson of 0/1 (copy rate {accuracy})")
    y_true, _ = binary_problem(g, 2000, 0.3, 1.0)
    for y_pred, expected in ((y_true, 1.0), (1 - y_true, -1.0)):
        C = confusion(y_true, y_pred)
        close(evaluate("wang2018glue/mcc", n_tp=C[1, 1], n_tn=C[0, 0], n_fp=C[0, 1], n_fn=C[1, 0]), expected, f"MCC = {expected:g}")
    n = 1_000_000
    y_true = (torch.rand(n, generator=g) < 0.3).long()
    y_pred = (torch.rand(n, generator=g) < 0.5).long()                  # independent of the labels
    C = confusion(y_true, y_pred)
    close(evaluate("wang2018glue/mcc", n_tp=C[1, 1], n_tn=C[0, 0], n_fp=C[0, 1], n_fn=C[1, 0]), 0.0, "random predictor ≈ 0",
          rtol=0, atol=5 / n ** 0.5)


@check("wang2018glue/f1", tex=r"F_1 = \frac{2 \cdot P \cdot R}{P + R}", evaluates=True)
def check_f1_from_counts():
    """MRPC-like labels (68% positive, n = 1700): the harmonic mean of precision and recall against
    2 TP / (2 TP + FP + FN) from the bincount confusion matrix."""
    g = seed(1)
    for accuracy in (0.9, 0.5):
        y_true, y_pred = binary_problem(g, 1700, 0.68, accuracy)
        C = confusion(y_true, y_pred)
        TP, FP, FN = C[1, 1], C[0, 1], C[1, 0]
        P, R = TP / (TP + FP), TP / (TP + FN)
        close(evaluate("wang2018glue/f1", P=P, R=R), 2 * TP / (2 * TP + FP + FN), f"F1 (copy rate {accuracy})")


@check("wang2018glue/pearson",
       tex=r"r = \frac{\sum_{i} (x_i - \bar x)(y_i - \bar y)}{\sqrt{\sum_{i} (x_i - \bar x)^2} \sqrt{\sum_{i} (y_i - \bar y)^2}}",
       evaluates=True)
def check_pearson_against_corrcoef():
    """STS-B-like gold scores in [1, 5] (n = 300) and noisy predictions: the note's formula against
    torch.corrcoef; r is unchanged by an affine rescaling of the predictions."""
    g = seed(2)
    y = 1 + 4 * torch.rand(300, generator=g, dtype=f64)
    x = y + 0.8 * torch.randn(300, generator=g, dtype=f64)

    def pearson(x, y):
        # r = Σ_i (x_i − x̄)(y_i − ȳ) / (√Σ_i (x_i − x̄)² √Σ_i (y_i − ȳ)²)
        return evaluate("wang2018glue/pearson", x=x, y=y, xbar=x.mean(), ybar=y.mean())

    close(pearson(x, y), torch.corrcoef(torch.stack([x, y]))[0, 1], "Pearson r")
    close(pearson(3 * x - 7, y), torch.corrcoef(torch.stack([x, y]))[0, 1], "r invariant to affine rescaling")


def ranks(v):
    """Ranks 1..n of distinct values, by a double argsort."""
    return torch.argsort(torch.argsort(v)).to(f64) + 1


@check("wang2018glue/spearman", tex=r"\rho = 1 - \frac{6 \sum_{i=1}^{n} d_i^2}{n (n^2 - 1)}", evaluates=True)
def check_spearman_closed_form():
    """Continuous scores (no ties, n = 800): the note's 1 − 6 Σ d_i² / (n(n² − 1)) against torch.corrcoef of the
    ranks; a monotone but non-linear transform keeps ρ and changes r."""
    g = seed(3)
    y = torch.rand(800, generator=g, dtype=f64)
    x = y + 0.3 * torch.randn(800, generator=g, dtype=f64)

    def spearman(x, y):
        # ρ = 1 − 6 Σ_i d_i² / (n (n² − 1)),  d_i = rank(x_i) − rank(y_i)
        return evaluate("wang2018glue/spearman", d=ranks(x) - ranks(y), n=x.numel())

    rho = torch.corrcoef(torch.stack([ranks(x), ranks(y)]))[0, 1]
    close(spearman(x, y), rho, "Spearman ρ")
    close(spearman(torch.exp(5 * x), y), rho, "ρ unchanged by a monotone transform")
    differs(torch.corrcoef(torch.stack([torch.exp(5 * x), y]))[0, 1], torch.corrcoef(torch.stack([x, y]))[0, 1],
            "Pearson r does change")


# GLUE test-server results with the leaderboard's published score (pairs: F1 and accuracy for MRPC and QQP,
# the two correlations for STS-B, MNLI matched and mismatched), as the GLUE leaderboard lists them
# (reproduced in the XLM and ERNIE 2.0 repositories' READMEs): BERT-Large 80.5, ERNIE 2.0 Base 80.6, ERNIE 2.0 Large 83.6.
LEADERBOARD = {
    "BERT-Large": (80.5, {"CoLA": [60.5], "SST-2": [94.9], "MRPC": [89.3, 85.4], "STS-B": [87.6, 86.5],
                          "QQP": [72.1, 89.3], "MNLI": [86.7, 85.9], "QNLI": [92.7], "RTE": [70.1], "WNLI": [65.1]}),
    "ERNIE 2.0 Base": (80.6, {"CoLA": [55.2], "SST-2": [95.0], "MRPC": [89.9, 86.1], "STS-B": [86.5, 87.6],
                              "QQP": [73.2, 89.8], "MNLI": [86.1, 85.5], "QNLI": [92.9], "RTE": [74.8], "WNLI": [65.1]}),
    "ERNIE 2.0 Large": (83.6, {"CoLA": [63.5], "SST-2": [95.6], "MRPC": [90.2, 87.4], "STS-B": [90.6, 91.2],
                               "QQP": [73.8, 90.1], "MNLI": [88.7, 88.8], "QNLI": [94.6], "RTE": [80.2], "WNLI": [67.8]}),
}


@check("wang2018glue/glue-score", tex=r"\text{GLUE} = \frac{1}{|\mathcal{T}|} \sum_{\tau \in \mathcal{T}} s_\tau",
       evaluates=True)
def check_macro_average():
    """Three leaderboard entries (nine tasks, two numbers for MRPC, STS-B, QQP and MNLI): the macro-average of
    the per-task scores s_τ against the score the leaderboard published, to its one decimal (±0.05); a flat
    average of all 13 numbers misses it."""
    for model, (published, results) in LEADERBOARD.items():
        s = torch.tensor([sum(values) / len(values) for values in results.values()], dtype=f64)   # s_τ: mean of a task's metrics
        # GLUE = (1/|T|) Σ_{τ ∈ T} s_τ, the tasks numbered 1..9
        glue = evaluate("wang2018glue/glue-score", s=s, T=list(range(1, len(results) + 1)))
        close(glue, published, f"{model}: macro-average against the published GLUE score", rtol=0, atol=0.05)
        flat = torch.tensor([x for v in results.values() for x in v], dtype=f64).mean()
        differs(flat, published, f"{model}: flat average over all 13 reported numbers", at_least=0.1)


if __name__ == "__main__":
    run_checks(__name__)
