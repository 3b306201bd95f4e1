"""Checks for notes/joshi2024sliding.md (sliding-window training): the window of length L starting at s,
and the truncation baseline as the window that ends at the last event.

References: torch.Tensor.unfold (PyTorch's own sliding window) for every window and their count;
Python's negative slicing x[-L:] for "the last L events", with the start evaluated from the note's
LaTeX; brute-force counting of covering windows for the coverage formula stated in the note's prose.
"""
import torch

from harness import check, close, device, evaluate, evaluate_with, figure, holds_with, run_checks


def window(x, s, L):
    """x: (T,) history x_1..x_T (1-based s) -> W_s = (x_s, …, x_{s+L−1})."""
    # W_s = (x_s, x_{s+1}, …, x_{s+L−1}),  1 ≤ s ≤ T − L + 1
    return x[s - 1:s - 1 + L]


@check("joshi2024sliding/window",
       tex=r"W_s = \left(x_{s}, x_{s+1}, \dots, x_{s+L-1}\right), \quad 1 \le s \le T - L + 1", evaluates=True)
def check_windows_against_unfold():
    """For several (T, L), the windows W_1..W_{T−L+1} are exactly the rows of x.unfold(0, L, 1), and
    there are T − L + 1 of them."""
    for T, L in ((12, 4), (30, 30), (57, 10)):
        x = torch.arange(1, T + 1, dtype=torch.float64, device=device()) * 10    # distinct event ids
        # W_s = (x_s, x_{s+1}, …, x_{s+L−1}) for 1 ≤ s ≤ T − L + 1, evaluated from the note (its first clause)
        windows = torch.stack([evaluate_with("joshi2024sliding/window", {"x": x, "s": s, "L": L}, clause=0)
                               for s in range(1, T - L + 2)])
        reference = x.unfold(0, L, 1)
        close(torch.tensor(float(len(windows))), float(reference.shape[0]), f"number of windows (T={T}, L={L})")
        # the last start, T − L + 1 (the second clause's upper bound), is the number of unfolded windows
        close(evaluate_with("joshi2024sliding/window", {"T": T, "L": L}, clause=1), float(reference.shape[0]),
              f"the last start s = T − L + 1 (T={T}, L={L})")
        for s in (1, T - L + 1):                    # 1 ≤ s ≤ T − L + 1 holds at both ends of the range
            holds_with("joshi2024sliding/window", {"s": s, "T": T, "L": L}, clause=1)
        close(windows, reference, f"W_s against Tensor.unfold (T={T}, L={L})")
        close(torch.stack([window(x, s, L) for s in range(1, T - L + 2)]), reference, "the slicing helper too")


@check("joshi2024sliding/truncation", tex=r"s_{\mathrm{last}} = T - L + 1", evaluates=True)
@check("joshi2024sliding/window",
       tex=r"W_s = \left(x_{s}, x_{s+1}, \dots, x_{s+L-1}\right), \quad 1 \le s \le T - L + 1")
def check_truncation_is_the_last_window():
    """s_last evaluated from the note's LaTeX gives the window equal to x[-L:] (the last L events),
    and it is the last row of unfold."""
    for T, L in ((12, 4), (100, 100), (2000, 100)):
        x = torch.randn(T, dtype=torch.float64, device=device())
        s_last_evaluated = evaluate("joshi2024sliding/truncation", T=T, L=L)
        s_last = int(s_last_evaluated)
        close(s_last_evaluated, x.unfold(0, L, 1).shape[0], f"s_last = the 1-based start of unfold's last window (T={T}, L={L})")
        close(window(x, s_last, L), x[-L:], f"W_(s_last) = last L events (T={T}, L={L})")
        close(window(x, s_last, L), x.unfold(0, L, 1)[-1], "…and the last unfolded window")


@check("joshi2024sliding/window",
       tex=r"W_s = \left(x_{s}, x_{s+1}, \dots, x_{s+L-1}\right), \quad 1 \le s \le T - L + 1")
def check_coverage_under_a_uniform_window_start():
    """With s uniform on 1..T−L+1, P(x_t ∈ W_s) counted over all windows equals
    (min(t, T−L+1) − max(1, t−L+1) + 1)/(T − L + 1), and every event has positive probability; the
    truncated window covers only the last L events."""
    T, L = 40, 10
    x = torch.arange(1, T + 1, device=device())
    starts = range(1, T - L + 2)
    counted = torch.zeros(T, dtype=torch.float64, device=device())
    for s in starts:
        counted[window(x, s, L) - 1] += 1
    counted /= len(starts)
    t = torch.arange(1, T + 1, dtype=torch.float64, device=device())
    formula = (torch.clamp(t, max=T - L + 1) - torch.clamp(t - L + 1, min=1) + 1) / (T - L + 1)
    close(counted, formula, "coverage by counting against the closed form")
    close((counted > 0).double(), torch.ones(T, dtype=torch.float64, device=device()), "no event is never seen")
    truncated = (t > T - L).double()
    close(truncated.sum(), float(L), "truncation covers exactly L events")
    figure("window-coverage", [
        {"type": "scatter", "name": "скользящее окно, равномерное начало", "x": t, "y": counted},
        {"type": "scatter", "name": "обрезка до последних L событий", "x": t, "y": truncated, "line": {"dash": "dash"}},
    ], {"xaxis": {"title": {"text": "номер события в истории t (T = 40, L = 10)"}},
        "yaxis": {"title": {"text": "вероятность попасть в окно за эпоху"}},
        "height": 320, "margin": {"l": 60, "r": 10, "t": 10, "b": 50}})


if __name__ == "__main__":
    run_checks(__name__)
