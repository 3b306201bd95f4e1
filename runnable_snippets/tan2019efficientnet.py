"""Checks for notes/tan2019efficientnet.md: the compound-scaling multipliers, the constraint α β² γ² ≈ 2, and the
claim that FLOPs scale as d · w² · r² = (α β² γ²)^φ, by counting the FLOPs of real conv stacks (on the meta device)
with torch.utils.flop_counter.FlopCounterMode.
"""
import math

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from harness import check, close, differs, evaluate, figure, holds, run_checks

alpha, beta, gamma = 1.2, 1.1, 1.15
L0, C0, R0 = 16, 96, 64                    # base depth (layers), width (channels), resolution (pixels)


def conv_stack_flops(layers, channels, resolution):
    """FLOPs counted by FlopCounterMode for `layers` 3x3 convolutions, channels → channels, 'same' padding, on a
    (1, channels, resolution, resolution) input; run on the meta device, so nothing is computed."""
    stack = nn.Sequential(*[nn.Conv2d(channels, channels, 3, padding=1, bias=False, device="meta") for _ in range(layers)])
    x = torch.empty(1, channels, resolution, resolution, device="meta")
    with FlopCounterMode(display=False) as counter:
        stack(x)
    return counter.get_total_flops()


def scaled(phi):
    """The multipliers from the note's LaTeX and the integer network they give (depth rounded up)."""
    d = evaluate("tan2019efficientnet/depth", alpha=alpha, phi=phi).reshape(())
    w = evaluate("tan2019efficientnet/width", beta=beta, phi=phi).reshape(())
    r = evaluate("tan2019efficientnet/resolution", gamma=gamma, phi=phi).reshape(())
    return (d, w, r), (math.ceil(float(d) * L0), round(float(w) * C0), round(float(r) * R0))


@check("tan2019efficientnet/depth", tex=r"d = \alpha^\phi", evaluates=True)
@check("tan2019efficientnet/width", tex=r"w = \beta^\phi", evaluates=True)
@check("tan2019efficientnet/resolution", tex=r"r = \gamma^\phi", evaluates=True)
def check_multipliers_compound_one_step_at_a_time():
    """α = 1.2, β = 1.1, γ = 1.15. What the multipliers must satisfy, not the powers re-typed: φ = 0 is the
    unscaled B0 (all 1); φ = 1 gives the grid-search constants the paper reports; and scaling by φ₁ then by φ₂
    is scaling by φ₁ + φ₂ (m(φ₁ + φ₂) = m(φ₁) m(φ₂), for fractional φ too), which among continuous functions only
    the exponential base^φ satisfies."""
    published = {"depth": alpha, "width": beta, "resolution": gamma}     # Section 4: α = 1.2, β = 1.1, γ = 1.15
    for phi_1, phi_2 in [(0.0, 0.0), (1.0, 0.0), (0.5, 0.5), (1.0, 2.0), (2.5, 4.5), (0.3, 1.7)]:
        (d1, w1, r1), _ = scaled(phi_1)
        (d2, w2, r2), _ = scaled(phi_2)
        (d, w, r), _ = scaled(phi_1 + phi_2)
        close(torch.stack([d, w, r]), torch.stack([d1 * d2, w1 * w2, r1 * r2]),
              f"(d, w, r) at φ = {phi_1} + {phi_2} = product of the two scalings")
    close(torch.stack(scaled(0.0)[0]), torch.ones(3, dtype=torch.float64), "φ = 0: B0 unscaled")
    close(torch.stack(scaled(1.0)[0]), torch.tensor(list(published.values()), dtype=torch.float64),
          "φ = 1: the grid-search constants")


@check("tan2019efficientnet/constraint", tex=r"\alpha \cdot \beta^2 \cdot \gamma^2 \approx 2", evaluates=True)
def check_constraint_against_counted_flops():
    """The φ = 1 network of a stack whose sizes scale exactly (100 layers, 200 channels, 200x200 input → 120,
    220, 230) has FlopCounterMode's FLOPs 1.92 times the base ones, α β² γ² as the note says, and within 5% of 2;
    every constant is at least 1."""
    ratio = conv_stack_flops(120, 220, 230) / conv_stack_flops(100, 200, 200)
    close(ratio, 1.92, "counted FLOPs ratio at φ = 1 (the note's 1.92)", atol=5e-4)
    close(alpha * beta ** 2 * gamma ** 2, ratio, "α β² γ² vs counted FLOPs ratio")
    # α · β² · γ² ≈ 2, both sides from the note's LaTeX, within the 5% the paper's "approximately" allows
    holds("tan2019efficientnet/constraint", rtol=0.05, atol=0.0, alpha=alpha, beta=beta, gamma=gamma)
    close(ratio, 2.0, "counted ratio ≈ 2", rtol=0.05)
    close(min(alpha, beta, gamma) >= 1, True, "α, β, γ ≥ 1")


@check("tan2019efficientnet/flops-proportional",
       tex=r"\frac{\mathrm{FLOPS}(d, w, r)}{\mathrm{FLOPS}(1, 1, 1)} = d \cdot w^2 \cdot r^2", evaluates=True)
@check("tan2019efficientnet/compound-flops", tex=r"d \cdot w^2 \cdot r^2 = (\alpha \cdot \beta^2 \cdot \gamma^2)^{\phi}",
       evaluates=True)
def check_flops_scale_by_compound_factor():
    """Base stack: 16 layers, 96 channels, 64x64 input. For φ = 0..7 the integer network (depth ⌈16 d⌉, width
    round(96 w), resolution round(64 r)) is FLOP-counted. (1) Counted FLOPs / base FLOPs = d w² r² exactly for the
    realised multipliers; (2) d w² r² = (α β² γ²)^φ for the exact multipliers; (3) the rounded network is within
    7% of (α β² γ²)^φ; (4) 1.92^φ stays visibly below 2^φ."""
    base = conv_stack_flops(L0, C0, R0)
    close(base, L0 * 2 * C0 * C0 * 9 * R0 * R0, "FLOPs of the base stack = layers · 2 C² k² R²")
    phis = list(range(8))
    counted, compound, multipliers = [], [], []
    for phi in phis:
        (d, w, r), (L, C, R) = scaled(phi)
        ratio = conv_stack_flops(L, C, R) / base
        realised = evaluate("tan2019efficientnet/flops-proportional", d=L / L0, w=C / C0, r=R / R0)
        close(ratio, realised, f"counted FLOPs ratio = d w² r² (realised, φ = {phi})")
        # d · w² · r² = (α · β² · γ²)^φ
        factor = evaluate("tan2019efficientnet/compound-flops", alpha=alpha, beta=beta, gamma=gamma, phi=phi)
        close(d * w ** 2 * r ** 2, factor, f"d w² r² = (α β² γ²)^φ at φ = {phi}")
        close(ratio, factor, f"rounded network vs (α β² γ²)^φ at φ = {phi}", rtol=0.07)
        counted.append(ratio)
        compound.append(float(factor))
        multipliers.append((float(d), float(w), float(r)))
    differs(torch.tensor(compound), torch.tensor([2.0 ** p for p in phis]), "1.92^φ vs 2^φ", at_least=0.1)
    phi_axis = torch.tensor(phis, dtype=torch.float64)
    figure("compound-scaling", [
        {"type": "scatter", "name": "counted FLOPs ratio (conv stack)", "x": phi_axis, "y": counted, "mode": "markers"},
        {"type": "scatter", "name": "(α β² γ²)^φ = 1.92^φ", "x": phi_axis, "y": compound},
        {"type": "scatter", "name": "2^φ", "x": phi_axis, "y": [2.0 ** p for p in phis], "line": {"dash": "dash"}},
        {"type": "scatter", "name": "depth d = 1.2^φ", "x": phi_axis, "y": [m[0] for m in multipliers], "line": {"dash": "dot"}},
        {"type": "scatter", "name": "width w = 1.1^φ", "x": phi_axis, "y": [m[1] for m in multipliers], "line": {"dash": "dot"}},
        {"type": "scatter", "name": "resolution r = 1.15^φ", "x": phi_axis, "y": [m[2] for m in multipliers], "line": {"dash": "dot"}},
    ], {"xaxis": {"title": {"text": "compound coefficient φ"}},
        "yaxis": {"title": {"text": "factor relative to φ = 0"}, "type": "log"},
        "height": 340, "margin": {"l": 60, "r": 10, "t": 10, "b": 50}, "legend": {"x": 0.02, "y": 0.98}})


if __name__ == "__main__":
    run_checks(__name__)
