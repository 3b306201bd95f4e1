"""Checks for notes/smith2018disciplined.md: the 1cycle learning rate (cycle and final decay) and the inverse
cyclical momentum, evaluated from the note's LaTeX and compared with the learning rate and momentum that
torch.optim.lr_scheduler.OneCycleLR(three_phase=True, anneal_strategy="linear", cycle_momentum=True) writes
into optimizer.param_groups.
"""
import torch

from harness import check, close, evaluate, figure, run_checks

f64 = torch.float64
T, s = 1000, 400                                  # last iteration, length of each step of the cycle
eta_max, div_factor, final_div_factor = 0.1, 10.0, 1000.0
eta_min, eta_end = eta_max / div_factor, eta_max / div_factor / final_div_factor
m_min, m_max = 0.85, 0.95


def one_cycle_lr():
    """(lr, momentum): (T + 1,) each, read from optimizer.param_groups at iterations 0 .. T."""
    p = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([p], lr=eta_max, momentum=0.9)
    total_steps = T + 1
    # OneCycleLR ends phase 1 at pct_start · total_steps − 1 and phase 2 at 2 pct_start · total_steps − 2
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=eta_max, total_steps=total_steps, pct_start=(s + 1) / total_steps, anneal_strategy="linear",
        three_phase=True, div_factor=div_factor, final_div_factor=final_div_factor, cycle_momentum=True,
        base_momentum=m_min, max_momentum=m_max)
    lr, momentum = [], []
    for t in range(T + 1):
        lr.append(optimizer.param_groups[0]["lr"])
        momentum.append(optimizer.param_groups[0]["momentum"])
        optimizer.step()
        if t < T:
            scheduler.step()
    return torch.tensor(lr, dtype=f64), torch.tensor(momentum, dtype=f64)


@check("smith2018disciplined/lr-cycle",
       tex=r"\eta_t = \eta_{\min} + (\eta_{\max} - \eta_{\min}) \cdot \max\left(0, 1 - \left|\frac{t}{s} - 1\right|\right)",
       evaluates=True)
@check("smith2018disciplined/momentum-cycle",
       tex=r"m_t = m_{\max} - (m_{\max} - m_{\min}) \cdot \max\left(0, 1 - \left|\frac{t}{s} - 1\right|\right)",
       evaluates=True)
@check("smith2018disciplined/annihilation",
       tex=r"\eta_t = \eta_{\min} - (\eta_{\min} - \eta_{end}) \cdot \frac{t - 2s}{T - 2s}", evaluates=True)
def check_one_cycle_against_torch():
    """T = 1000, s = 400, η from 0.01 up to 0.1 and back, then down to 1e-5; momentum 0.95 → 0.85 → 0.95, then
    held. The note's three formulas against OneCycleLR's param_groups, and the inverse relation: during the
    cycle the momentum is an affine, decreasing function of the rate."""
    lr, momentum = one_cycle_lr()
    t = torch.arange(T + 1, dtype=f64)
    cycle, tail = t <= 2 * s, t >= 2 * s
    lr_cycle = evaluate("smith2018disciplined/lr-cycle", eta_min=eta_min, eta_max=eta_max, t=t[cycle], s=s)
    m_cycle = evaluate("smith2018disciplined/momentum-cycle", m_min=m_min, m_max=m_max, t=t[cycle], s=s)
    lr_tail = evaluate("smith2018disciplined/annihilation", eta_min=eta_min, eta_end=eta_end, t=t[tail], s=s, T=T)
    close(lr_cycle, lr[cycle], "η_t during the cycle vs OneCycleLR", rtol=1e-9, atol=1e-12)
    close(m_cycle, momentum[cycle], "m_t during the cycle vs OneCycleLR", rtol=1e-9, atol=1e-12)
    close(lr_tail, lr[tail], "η_t during the final decay vs OneCycleLR", rtol=1e-9, atol=1e-12)
    close(momentum[tail], torch.full_like(lr_tail, m_max), "momentum held at m_max in the final decay")
    close(lr[[0, s, 2 * s, T]], torch.tensor([eta_min, eta_max, eta_min, eta_end], dtype=f64), "η at 0, s, 2s, T")
    # inverse cyclical momentum: (m_max − m_t)/(m_max − m_min) = (η_t − η_min)/(η_max − η_min)
    close((m_max - momentum[cycle]) / (m_max - m_min), (lr[cycle] - eta_min) / (eta_max - eta_min),
          "momentum mirrors the learning rate", rtol=1e-9, atol=1e-12)
    every = slice(None, None, 5)
    figure("one-cycle", [
        {"type": "scatter", "name": "learning rate η_t", "x": t[every], "y": lr[every]},
        {"type": "scatter", "name": "momentum m_t (right axis)", "x": t[every], "y": momentum[every], "yaxis": "y2",
         "line": {"dash": "dash"}},
    ], {"xaxis": {"title": {"text": "iteration t"}},
        "yaxis": {"title": {"text": "learning rate"}},
        "yaxis2": {"title": {"text": "momentum"}, "overlaying": "y", "side": "right", "range": [0.84, 0.96]},
        "height": 320, "margin": {"l": 60, "r": 60, "t": 10, "b": 50}, "legend": {"x": 0.55, "y": 0.98}})


if __name__ == "__main__":
    run_checks(__name__)
