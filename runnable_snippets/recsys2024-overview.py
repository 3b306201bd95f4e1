"""Checks for notes/recsys2024-overview.md: the in-batch softmax with logQ correction for two-tower
retrieval (Yi et al., 2019).

References: F.cross_entropy on the corrected logit matrix; the plain in-batch softmax for uniform q;
and a Monte Carlo check (400 000 draws from a Zipf popularity) that the corrected terms average to the
full-catalogue sum Σ_j exp(s_j), while the uncorrected ones, read as if sampling were uniform, do not.
"""
import torch
import torch.nn.functional as F

from harness import check, close, device, differs, evaluate, run_checks, seed



@check("recsys2024-overview/logq-softmax",
       tex=r"\mathcal{L} = -\frac{1}{B} \sum_{i=1}^{B} \log \frac{\exp\left(s_{ii} - \log q_i\right)}{\sum_{j=1}^{B} \exp\left(s_{ij} - \log q_j\right)}",
       evaluates=True)
def check_logq_loss_against_cross_entropy():
    """The loss equals F.cross_entropy(S − log q, arange(B)); with uniform q it is the plain in-batch
    softmax; with skewed q it differs from it."""
    g = seed(0)
    B, d = 16, 8
    U = torch.randn(B, d, generator=g, dtype=torch.float64).to(device())
    V = torch.randn(B, d, generator=g, dtype=torch.float64).to(device())
    S = U @ V.T                                                          # s_ij = ⟨u_i, v_j⟩
    q = torch.rand(B, generator=g, dtype=torch.float64).to(device()) ** 3 + 1e-3
    q = q / q.sum() * 0.5                                                # probabilities of entering the batch
    targets = torch.arange(B, device=device())
    # L = −(1/B) Σ_i log [exp(s_ii − log q_i) / Σ_j exp(s_ij − log q_j)], evaluated from the note (i, j from 1)
    L = evaluate("recsys2024-overview/logq-softmax", s=S, q=q, B=B)
    close(L, F.cross_entropy(S - torch.log(q)[None, :], targets), "L (the note's formula) against F.cross_entropy")
    uniform = torch.full((B,), 0.01, dtype=torch.float64, device=device())
    L_uniform = evaluate("recsys2024-overview/logq-softmax", s=S, q=uniform, B=B)
    close(L_uniform, F.cross_entropy(S, targets), "uniform q: plain in-batch softmax")
    differs(L, F.cross_entropy(S, targets), "skewed q: the correction matters")


@check("recsys2024-overview/logq-softmax",
       tex=r"\mathcal{L} = -\frac{1}{B} \sum_{i=1}^{B} \log \frac{\exp\left(s_{ii} - \log q_i\right)}{\sum_{j=1}^{B} \exp\left(s_{ij} - \log q_j\right)}")
def check_corrected_terms_estimate_the_full_catalogue_sum():
    """Items drawn with Zipf popularity q over a 200-item catalogue, scores higher for popular items: the mean of exp(s_j − log q_j) over
    400 000 draws is Σ_j exp(s_j) within 5 standard errors; the uncorrected terms, scaled as if sampling
    were uniform (N · mean exp(s_j)), estimate N Σ_j q_j exp(s_j) instead, which is far off."""
    g = seed(1)
    N, draws = 200, 400_000
    q = 1.0 / torch.arange(1, N + 1, dtype=torch.float64) ** 1.1
    q = (q / q.sum()).to(device())
    # one query's scores, higher for popular items (as a trained model's would be)
    s = 0.8 * torch.log(N * q) + (torch.randn(N, generator=g, dtype=torch.float64) * 0.3).to(device())
    j = torch.multinomial(q.cpu(), draws, replacement=True, generator=g).to(device())
    corrected = torch.exp(s[j] - torch.log(q[j]))
    Z = torch.exp(s).sum()
    close(corrected.mean(), Z, "mean exp(s − log q) against Σ_j exp(s_j)",
          atol=float(5 * corrected.std() / draws ** 0.5), rtol=0)
    uniform_reading = N * torch.exp(s[j]).mean()
    close(uniform_reading, N * (q * torch.exp(s)).sum(), "uncorrected: N·Σ q exp(s)",
          atol=float(5 * N * torch.exp(s[j]).std() / draws ** 0.5), rtol=0)
    differs(uniform_reading / Z, 1.0, "uncorrected estimate of the full sum is biased", at_least=0.5)


if __name__ == "__main__":
    run_checks(__name__)
