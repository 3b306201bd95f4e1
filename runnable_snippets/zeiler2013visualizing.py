"""Checks for notes/zeiler2013visualizing.md: the forward conv + ReLU layer, the deconvnet's unpooling
with switches, rectification and filtering with the transposed filters, and the relation of one
deconvnet step to backpropagation.

References: F.unfold + matmul and the dense matrix of the convolution for the forward layer;
nn.MaxPool2d(return_indices=True) + nn.MaxUnpool2d against a hand-written scatter into each window's
argmax and against autograd through max pooling; F.conv_transpose2d against autograd through F.conv2d,
the transposed dense matrix, and a convolution with flipped, channel-swapped filters.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from harness import check, close, device, differs, evaluate, run_checks, seed

N_img, C_in, C_out, H, k = 2, 3, 4, 10, 3


def layer_parameters(generator, bias_shift=0.0):
    """x_{l-1} (N, C_in, H, H), W_l (C_out, C_in, k, k), b_l (C_out,), float64."""
    x = torch.randn(N_img, C_in, H, H, generator=generator, dtype=torch.float64).to(device())
    W = torch.randn(C_out, C_in, k, k, generator=generator, dtype=torch.float64).to(device()) / 3
    b = torch.randn(C_out, generator=generator, dtype=torch.float64).to(device()) + bias_shift
    return x, W, b


def conv_matrix(W, shape):
    """The dense matrix 𝐖 of the linear map x ↦ W * x (no bias, no padding), shape (out_numel, in_numel):
    its columns are the convolution applied to every basis image."""
    in_numel = torch.Size(shape).numel()
    basis = torch.eye(in_numel, dtype=W.dtype, device=W.device).reshape(in_numel, *shape[1:])
    return F.conv2d(basis, W).reshape(in_numel, -1).T


@check("zeiler2013visualizing/conv-layer", tex=r"a_l = \max\left(0, W_l * x_{l-1} + b_l\right)")
def check_conv_layer_as_unfold_matmul():
    """max(0, W * x + b) via F.conv2d equals an explicit unfold-and-matmul and the dense matrix 𝐖 vec(x)."""
    g = seed(0)
    x, W, b = layer_parameters(g)
    # a_l = max(0, W_l * x_{l-1} + b_l)
    a = F.relu(F.conv2d(x, W, b))
    columns = F.unfold(x, k)                                              # (N, C_in k k, L)
    out = H - k + 1
    manual = (W.reshape(C_out, -1) @ columns + b[:, None]).reshape(N_img, C_out, out, out).clamp_min(0)
    close(a, manual, "conv2d + ReLU against unfold @ W")
    matrix = conv_matrix(W, (1, C_in, H, H))
    via_matrix = (matrix @ x[0].reshape(-1)).reshape(C_out, out, out) + b[:, None, None]
    close(a[0], via_matrix.clamp_min(0), "conv2d + ReLU against the dense matrix 𝐖 vec(x) + b")


@check("zeiler2013visualizing/unpool", tex=r"\hat{a}_l = U_{s_l}\left(R_l\right)")
def check_unpooling_with_switches():
    """nn.MaxUnpool2d with the indices (switches) from nn.MaxPool2d(return_indices=True) equals a hand-written
    scatter into each 2×2 window's argmax and the gradient of max pooling; reading the unpooled map at the
    switches returns R_l."""
    g = seed(1)
    x, W, b = layer_parameters(g)
    a = F.relu(F.conv2d(x, W, b))                                       # (N, C_out, 8, 8)
    pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
    x_l, s_l = pool(a)
    R = torch.randn(x_l.shape, generator=g, dtype=torch.float64).to(device())
    # â_l = U_{s_l}(R_l)
    a_hat = unpool(R, s_l, output_size=a.shape[-2:])

    n, c, h, w = a.shape
    windows = a.reshape(n, c, h // 2, 2, w // 2, 2).permute(0, 1, 2, 4, 3, 5).reshape(n, c, h // 2, w // 2, 4)
    argmax = windows.argmax(-1)
    scattered = torch.zeros_like(windows).scatter_(-1, argmax[..., None], R[..., None])
    manual = scattered.reshape(n, c, h // 2, w // 2, 2, 2).permute(0, 1, 2, 4, 3, 5).reshape(n, c, h, w)
    close(a_hat, manual, "MaxUnpool2d(switches) against a scatter into each window's argmax")

    a_ = a.detach().requires_grad_(True)
    (gradient,) = torch.autograd.grad((F.max_pool2d(a_, 2) * R).sum(), a_)
    close(a_hat, gradient, "unpooling with switches = gradient of max pooling")
    close(a_hat.flatten(2).gather(2, s_l.flatten(2)).reshape(R.shape), R, "U_{s_l}(R_l) read at the switches is R_l")


@check("zeiler2013visualizing/rectify", tex=r"\tilde{a}_l = \max\left(0, \hat{a}_l\right)", evaluates=True)
def check_rectification():
    """The note's max(0, â_l), evaluated elementwise, equals F.relu and keeps only the positive part."""
    g = seed(2)
    a_hat = torch.randn(4, 6, 6, generator=g, dtype=torch.float64)
    a_tilde = evaluate("zeiler2013visualizing/rectify", ahat_l=a_hat)
    close(a_tilde, F.relu(a_hat), "max(0, â) against F.relu")
    close(a_tilde - evaluate("zeiler2013visualizing/rectify", ahat_l=-a_hat), a_hat, "max(0, â) − max(0, −â) = â")


@check("zeiler2013visualizing/transposed-filter", tex=r"R_{l-1} = \mathbf{W}_l^{\top} \tilde{a}_l", evaluates=True)
def check_transposed_filtering():
    """F.conv_transpose2d(ã, W) (the deconvnet filtering with the forward weights) equals 𝐖ᵀ vec(ã) with the
    dense matrix of the convolution, the autograd gradient of ⟨W * x, ã⟩ with respect to x, and a full convolution
    of ã with the filters flipped vertically and horizontally and input/output channels swapped."""
    g = seed(3)
    x, W, _ = layer_parameters(g)
    a_tilde = F.relu(torch.randn(N_img, C_out, H - k + 1, H - k + 1, generator=g, dtype=torch.float64)).to(device())
    # R_{l-1} = 𝐖_lᵀ ã_l
    R = F.conv_transpose2d(a_tilde, W)
    matrix = conv_matrix(W, (1, C_in, H, H))
    # R_{l-1} = 𝐖_lᵀ ã_l, the note's LaTeX with 𝐖_l the dense matrix of the convolution and ã_l flattened
    R_note = evaluate("zeiler2013visualizing/transposed-filter", W_l=matrix, atilde_l=a_tilde[0].reshape(-1))
    close(R_note.reshape(C_in, H, H), R[0], "the note's 𝐖ᵀ ã against F.conv_transpose2d")
    x_ = x.detach().requires_grad_(True)
    (gradient,) = torch.autograd.grad((F.conv2d(x_, W) * a_tilde).sum(), x_)
    close(R, gradient, "conv_transpose2d against the gradient of conv2d with respect to its input")
    flipped = W.flip(2, 3).transpose(0, 1)                                  # (C_in, C_out, k, k)
    close(R, F.conv2d(a_tilde, flipped, padding=k - 1), "against conv2d with flipped, channel-swapped filters")


@check("zeiler2013visualizing/unpool", tex=r"\hat{a}_l = U_{s_l}\left(R_l\right)")
@check("zeiler2013visualizing/rectify", tex=r"\tilde{a}_l = \max\left(0, \hat{a}_l\right)", evaluates=True)
@check("zeiler2013visualizing/transposed-filter", tex=r"R_{l-1} = \mathbf{W}_l^{\top} \tilde{a}_l")
def check_deconvnet_step_against_backpropagation():
    """One deconvnet step (unpool, rectify, transposed filter) through conv → ReLU → max pool. Backprop
    of ⟨pool(relu(conv(x))), R⟩ is 𝐖ᵀ(1[a > 0] ⊙ U_s(R)). With R ≥ 0 and positive pooled maxima the
    deconvnet reconstruction equals that gradient; with a signed R the two rectification rules differ."""
    g = seed(4)
    x, W, b = layer_parameters(g, bias_shift=5.0)
    pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
    a = F.relu(F.conv2d(x, W, b))
    x_l, s_l = pool(a)
    close(bool((x_l > 0).all()), True, "all pooled maxima are positive")

    def deconvnet(R):
        a_hat = unpool(R, s_l, output_size=a.shape[-2:])                  # â = U_s(R)
        a_tilde = evaluate("zeiler2013visualizing/rectify", ahat_l=a_hat).to(a_hat)   # ã = max(0, â)
        return F.conv_transpose2d(a_tilde, W)                                # 𝐖ᵀ ã

    def backprop(R):
        x_ = x.detach().requires_grad_(True)
        (gradient,) = torch.autograd.grad((pool(F.relu(F.conv2d(x_, W, b)))[0] * R).sum(), x_)
        close(gradient, F.conv_transpose2d((a > 0).double() * unpool(R, s_l, output_size=a.shape[-2:]), W),
              "autograd against 𝐖ᵀ(1[a > 0] ⊙ U_s(R))")
        return gradient

    R_positive = torch.rand(x_l.shape, generator=g, dtype=torch.float64).to(device())
    close(deconvnet(R_positive), backprop(R_positive), "deconvnet = gradient for R ≥ 0")
    R_signed = torch.randn(x_l.shape, generator=g, dtype=torch.float64).to(device())
    differs(deconvnet(R_signed), backprop(R_signed), "deconvnet vs gradient for a signed R")


if __name__ == "__main__":
    run_checks(__name__)
