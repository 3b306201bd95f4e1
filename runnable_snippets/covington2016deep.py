"""Checks for notes/covington2016deep.md: the candidate-generation softmax (and nearest-neighbour serving),
the importance-sampling estimate behind sampled softmax, and the weighted-logistic-regression odds.

References: F.softmax / F.cross_entropy / torch.topk; the exact expectation and a 200 000-sample Monte
Carlo estimate (5 standard errors) for importance sampling; a weighted logistic regression fitted by Newton's
method on F.binary_cross_entropy_with_logits(weight=...) against the closed form Σ T_i / (N − k).
"""
import torch
import torch.nn.functional as F

from harness import check, close, device, differs, evaluate, run_checks, seed

f64 = torch.float64


@check("covington2016deep/candidate-softmax", tex=r"P(w_t = i \mid U, C) = \frac{e^{v_i u}}{\sum_{j \in V} e^{v_j u}}",
       evaluates=True)
def check_softmax_cross_entropy_and_nearest_neighbours():
    """|V| = 500 videos, N = 16, a batch of 4 users: the explicit softmax against F.softmax; −log P of the
    watched video against F.cross_entropy; top-10 by probability = top-10 by dot product v_j u."""
    g = seed(0)
    v = torch.randn(500, 16, generator=g, dtype=f64).to(device())      # video embeddings
    u = torch.randn(4, 16, generator=g, dtype=f64).to(device())        # user/context embeddings
    watched = torch.randint(500, (4,), generator=g).to(device())
    logits = u @ v.T                                                    # v_j u for every j
    # P(w_t = i | U, C) = e^{v_i u} / Σ_{j ∈ V} e^{v_j u}, from the note's LaTeX for every video i at once:
    # v_i is the (500, 16) table, u the users as columns (16, 4), V the corpus 1..500
    P = evaluate("covington2016deep/candidate-softmax", v_i=v, v=v, u=u.T, V=list(range(1, 501))).T
    close(P, F.softmax(logits, -1), "softmax over the corpus against F.softmax")
    close(-torch.log(P[torch.arange(4), watched]).mean(), F.cross_entropy(logits, watched), "−log P(watched) against F.cross_entropy")
    close(torch.topk(P, 10).indices.to(f64), torch.topk(logits, 10).indices.to(f64), "top-10 by P = top-10 by dot product")


@check("covington2016deep/importance-sampling",
       tex=r"\sum_{j \in V} e^{v_j u} \approx \frac{1}{K} \sum_{s=1}^{K} \frac{e^{v_{j_s} u}}{q(j_s)}",
       evaluates=True)
def check_importance_sampled_denominator():
    """Proposal q ∝ (rank + 1)^−1 (popularity-like) over |V| = 1000: the estimator's exact expectation is the
    full denominator, and a K = 200 000 sample estimate is within 5 standard errors of it; a biased use
    (no 1/q weights) is far off."""
    g = seed(1)
    v = torch.randn(1000, 8, generator=g, dtype=f64) * 0.5
    u = torch.randn(8, generator=g, dtype=f64)
    scores = torch.exp(v @ u)                                           # e^{v_j u}
    Z = scores.sum()
    q = 1.0 / torch.arange(1, 1001, dtype=f64)
    q = q / q.sum()
    close((q * scores / q).sum(), Z, "E_q[e^{v_j u} / q(j)] = Σ_j e^{v_j u} (unbiased)")
    K = 200_000
    j = torch.multinomial(q, K, replacement=True, generator=g)
    ratios = scores[j] / q[j]
    estimate = ratios.mean()
    standard_error = float(ratios.std() / K ** 0.5)
    close(estimate, Z, f"Monte Carlo estimate with K={K} (±5 SE)", rtol=0.0, atol=5 * standard_error)
    differs(scores[j].mean() * len(q), Z, "without the 1/q correction the estimate is biased", at_least=10 * standard_error)

    # (1/K) Σ_{s=1}^{K} e^{v_{j_s} u} / q(j_s), from the note's LaTeX (u as a column, items numbered from 1):
    # with a uniform q and the K = |V| "samples" j_s = s, it is the full denominator exactly
    column = u[:, None]
    uniform = lambda j_s: 1.0 / len(v)                                  # noqa: E731
    close(evaluate("covington2016deep/importance-sampling", v=v, u=column, K=len(v), j=torch.arange(1, len(v) + 1),
                   q=uniform)[0], Z, "the note's estimator over every item once with uniform q = Σ_j e^{v_j u}")
    # and with K = 1 000 draws from the popularity proposal it is within 5 standard errors of Σ_j e^{v_j u}
    K = 1_000
    j = torch.multinomial(q, K, replacement=True, generator=g)
    ratios = scores[j] / q[j]
    estimate = evaluate("covington2016deep/importance-sampling", v=v, u=column, K=K, j=j + 1,
                        q=lambda j_s: q[int(j_s) - 1])[0]
    close(estimate, Z, f"the note's estimator with K={K} (±5 SE)", rtol=0.0, atol=5 * float(ratios.std() / K ** 0.5))


@check("covington2016deep/weighted-lr-odds",
       tex=r"e^{W x + b} = \frac{\sum_{i=1}^{k} T_i}{N - k} \approx \mathbb{E}[T](1 + P) \approx \mathbb{E}[T]")
def check_weighted_logistic_regression_odds():
    """Three groups of impressions (one-hot x, so each group gets its own logit). Weighted logistic
    regression — positives weighted by watch time T_i, negatives by 1 — fitted by Newton's method: the learned odds
    equal Σ T_i / (N − k) = E[T] / (1 − P) per group; for P = 1% they match E[T](1 + P) to O(P²) and
    E[T] to O(P); for P = 40% the last approximation fails."""
    g = seed(2)
    groups = [(4000, 40), (2000, 20), (500, 200)]                     # (N, k): P = 1%, 1%, 40%
    x_rows, labels, weights, closed_form, E_T, P = [], [], [], [], [], []
    for index, (N, k) in enumerate(groups):
        T = -torch.log(torch.rand(k, generator=g, dtype=f64)) * 60.0 * (index + 1)      # watch times, exponential
        x_rows.append(F.one_hot(torch.full((N,), index), len(groups)).to(f64))
        labels.append(torch.cat([torch.ones(k, dtype=f64), torch.zeros(N - k, dtype=f64)]))
        weights.append(torch.cat([T, torch.ones(N - k, dtype=f64)]))
        # odds = Σ T_i / (N − k)
        closed_form.append(T.sum() / (N - k))
        E_T.append(T.sum() / N)
        P.append(k / N)
    x, y, w = torch.cat(x_rows), torch.cat(labels), torch.cat(weights)
    closed_form, E_T, P = torch.stack(closed_form), torch.stack(E_T), torch.tensor(P, dtype=f64)

    def loss_of(W_):
        """Weighted logistic loss: positives weighted by T_i, negatives by 1 (torch's weight= argument)."""
        return F.binary_cross_entropy_with_logits(x @ W_, y, weight=w, reduction="sum") / len(y)

    W_fit = torch.zeros(len(groups), dtype=f64)
    for _ in range(50):                                                 # Newton's method with backtracking
        gradient = torch.autograd.functional.jacobian(loss_of, W_fit)
        step = torch.linalg.solve(torch.autograd.functional.hessian(loss_of, W_fit), gradient)
        if float(step.abs().max()) < 1e-11:
            break
        t, current = 1.0, loss_of(W_fit)
        while loss_of(W_fit - t * step) > current + 1e-15 and t > 1e-3:
            t /= 2
        W_fit = W_fit - t * step
    odds = torch.exp(W_fit)                                             # e^{Wx + b} for each group
    close(odds, closed_form, "learned odds against Σ T_i / (N − k)", rtol=1e-9)
    close(closed_form, E_T / (1 - P), "Σ T_i / (N − k) = E[T] / (1 − P) exactly")
    small = P < 0.05
    close(odds[small], (E_T * (1 + P))[small], "≈ E[T](1 + P) for P = 1%", rtol=3e-4)
    close(odds[small], E_T[small], "≈ E[T] for P = 1%", rtol=2e-2)
    differs(odds[~small] / E_T[~small], torch.ones(1, dtype=f64), "for P = 40% the odds are far from E[T]", at_least=0.3)


if __name__ == "__main__":
    run_checks(__name__)
