"""Checks for notes/szegedy2015rethinking.md: the parameter (and FLOP) savings of factorised convolutions, from
nn.Conv2d modules on the meta device and torch.utils.flop_counter; the 5x5 receptive field of two stacked 3x3
layers (autograd); the rank-one equivalence of 1x3 + 3x1; and label smoothing against
F.cross_entropy(label_smoothing=ε).
"""
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from harness import check, close, device, evaluate, holds, run_checks, seed

f64 = torch.float64


def parameters(*layers):
    return sum(p.numel() for layer in layers for p in layer.parameters())


def conv(C, kernel, **kwargs):
    return nn.Conv2d(C, C, kernel, bias=False, device="meta", **kwargs)


def flops(module, x):
    with FlopCounterMode(display=False) as counter:
        module(x)
    return counter.get_total_flops()


@check("szegedy2015rethinking/factor-5x5",
       tex=r"\frac{2 P_{3 \times 3}}{P_{5 \times 5}} = \frac{2 \cdot 3^2 \cdot C^2}{5^2 \cdot C^2}", evaluates=True)
def check_two_3x3_replace_one_5x5():
    """C = 64 channels: parameters of two nn.Conv2d(C, C, 3) vs one nn.Conv2d(C, C, 5) (meta device), FLOPs on a
    (1, 16, 12, 12) input with 'same' padding (FlopCounterMode), and the 5x5 receptive field of the stack."""
    C = 64
    ratio = evaluate("szegedy2015rethinking/factor-5x5", C=C)
    close(parameters(conv(C, 3), conv(C, 3)) / parameters(conv(C, 5)), ratio, "parameter ratio from nn.Conv2d")
    close(1 - ratio, 0.28, "28% fewer")
    g = seed(0)
    x = torch.randn(1, 16, 12, 12, generator=g)
    five = nn.Conv2d(16, 16, 5, padding=2, bias=False)
    stack = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1, bias=False), nn.ReLU(), nn.Conv2d(16, 16, 3, padding=1, bias=False))
    close(flops(stack, x) / flops(five, x), ratio, "FLOP ratio on the same output grid")
    # receptive field: the gradient of one output pixel of the stack reaches exactly a 5x5 input patch
    linear_stack = nn.Sequential(nn.Conv2d(1, 1, 3, bias=False), nn.Conv2d(1, 1, 3, bias=False)).to(f64)
    image = torch.randn(1, 1, 9, 9, generator=g, dtype=f64, requires_grad=True)
    (grad,) = torch.autograd.grad(linear_stack(image)[0, 0, 2, 2], image)
    support = (grad[0, 0] != 0).to(f64)
    expected = torch.zeros(9, 9, dtype=f64)
    expected[2:7, 2:7] = 1
    close(support, expected, "receptive field of two 3x3 layers is 5x5")


@check("szegedy2015rethinking/factor-asymmetric",
       tex=r"\frac{P_{1 \times n} + P_{n \times 1}}{P_{n \times n}} = \frac{2n}{n^2}", evaluates=True)
def check_asymmetric_factorisation():
    """n = 3, 5, 7 with C = 32: parameters of nn.Conv2d(C, C, (1, n)) + nn.Conv2d(C, C, (n, 1)) vs nn.Conv2d(C, C, n);
    n = 3 is 33% cheaper (two 2x2 layers: 11%). For one channel, 1x3 then 3x1 equals the 3x3 convolution with
    the outer-product kernel."""
    C = 32
    for n in (3, 5, 7):
        counted = parameters(conv(C, (1, n)), conv(C, (n, 1))) / parameters(conv(C, n))
        close(evaluate("szegedy2015rethinking/factor-asymmetric", n=n), counted, f"1x{n} + {n}x1 vs {n}x{n}")
    close(1 - evaluate("szegedy2015rethinking/factor-asymmetric", n=3), 1 / 3, "33% cheaper for n = 3")
    close(1 - parameters(conv(C, 2), conv(C, 2)) / parameters(conv(C, 3)), 1 / 9, "two 2x2 layers save 11%")
    g = seed(1)
    x = torch.randn(2, 1, 10, 10, generator=g, dtype=f64).to(device())
    w_row = torch.randn(1, 1, 1, 3, generator=g, dtype=f64).to(device())     # 1x3
    w_col = torch.randn(1, 1, 3, 1, generator=g, dtype=f64).to(device())     # 3x1
    pair = F.conv2d(F.conv2d(x, w_row, padding=(0, 1)), w_col, padding=(1, 0))
    kernel = (w_col[0, 0, :, 0][:, None] * w_row[0, 0, 0, :][None, :])[None, None]   # rank-one 3x3
    close(pair, F.conv2d(x, kernel, padding=1), "1x3 then 3x1 = 3x3 with the outer-product kernel")


@check("szegedy2015rethinking/label-smoothing", tex=r"q'(k) = (1 - \epsilon)\, \delta_{k,y} + \frac{\epsilon}{K}",
       evaluates=True)
@check("szegedy2015rethinking/smoothed-cross-entropy", tex=r"H(q', p) = (1 - \epsilon)\, H(q, p) + \epsilon\, H(u, p)",
       evaluates=True)
def check_label_smoothing_against_cross_entropy():
    """K = 1000 classes, ε = 0.1, a batch of 4: the smoothed target (0.9001 / 0.0001, sums to 1) and its
    cross-entropy against F.cross_entropy(label_smoothing=0.1); the split into (1 − ε) H(q, p) + ε H(u, p)."""
    g = seed(2)
    K, epsilon, B = 1000, 0.1, 4
    logits = (2 * torch.randn(B, K, generator=g, dtype=f64)).to(device())
    y = torch.randint(0, K, (B,), generator=g).to(device())
    delta = F.one_hot(y, K).to(f64)
    # q'(k) = (1 − ε) δ_{k,y} + ε / K
    q_smooth = evaluate("szegedy2015rethinking/label-smoothing", epsilon=epsilon, K=K, **{"delta_k,y": delta}).to(logits)
    close(q_smooth.sum(-1), torch.ones(B, dtype=f64, device=device()), "q' sums to 1")
    close(q_smooth[0, y[0]], 0.9001, "true class gets 0.9001")
    close(q_smooth[0].min(), 0.0001, "other classes get 0.0001")
    log_p = torch.log_softmax(logits, -1)
    H_smooth = -(q_smooth * log_p).sum(-1).mean()                                 # H(q', p), batch mean
    reference = F.cross_entropy(logits, y, label_smoothing=epsilon)
    close(H_smooth, reference, "H(q', p) vs F.cross_entropy(label_smoothing=0.1)")
    # H(q', p) = (1 − ε) H(q, p) + ε H(u, p), both sides from the note's LaTeX; H is torch's cross-entropy with
    # probability targets (batch mean) and p stands for the logits it turns into probabilities
    def H(target, z):
        return F.cross_entropy(z, target)
    u = torch.full((B, K), 1.0 / K, dtype=f64, device=device())
    values = {"H": H, "q'": q_smooth, "q": delta.to(logits), "u": u, "p": logits, "epsilon": epsilon}
    holds("szegedy2015rethinking/smoothed-cross-entropy", **values)
    close(evaluate("szegedy2015rethinking/smoothed-cross-entropy", **values), reference,
          "(1 − ε) H(q, p) + ε H(u, p) vs F.cross_entropy(label_smoothing=0.1)")


if __name__ == "__main__":
    run_checks(__name__)
