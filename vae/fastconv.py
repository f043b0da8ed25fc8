"""The report's transpose convolutions as one matrix product each: the CPU kernel.

`build_model` swaps GemmConvTranspose2d in for the nn.ConvTranspose2d layers of the parts
registered with a CPU fast path (use_gemm_transpose_convs); the parameters, state_dict and
math stay the same. The library's kernels are slow on inputs 1 to 3 columns wide, which
the report's decoder makes (benchmarks/README.md gives the timings).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class _RowOverlapAdd(torch.autograd.Function):
    """out = overlap-add over rows of (x2 @ w2): input row i's kernel row k lands on output row s*i + k.

    x2 (B*H, K) and w2 (K, KH*N) give y (B, H, KH, N); out is (B, (H-1)*s + KH, N) with
    bias (N,) added. The backward of the overlap-add is a gather of row windows, which
    `Tensor.unfold` gives as a view, so both directions are one matrix product each.
    """

    @staticmethod
    def forward(ctx, x2, w2, bias, batch, rows, kh, stride):
        n = bias.numel()
        y = (x2 @ w2).view(batch, rows, kh, n)
        # Output padded to whole strides, so that row s*m + r is the plain view [m, r].
        q = -(-kh // stride)
        out = bias.expand(batch, (rows + q - 1) * stride, n).contiguous()
        phases = out.view(batch, rows + q - 1, stride, n)
        for a in range(q):
            r = min(stride, kh - a * stride)
            phases[:, a : a + rows, :r] += y[:, :, a * stride : a * stride + r]
        ctx.save_for_backward(x2, w2)
        ctx.dims = (batch, rows, kh, stride, n)
        return out[:, : (rows - 1) * stride + kh]

    @staticmethod
    def backward(ctx, grad):
        x2, w2 = ctx.saved_tensors
        batch, rows, kh, stride, n = ctx.dims
        gy = grad.unfold(1, kh, stride).transpose(2, 3).reshape(batch * rows, kh * n)  # (B*H, KH*N)
        gx = gy @ w2.t() if ctx.needs_input_grad[0] else None
        gw = x2.t().to(gy.dtype) @ gy if ctx.needs_input_grad[1] else None  # x2 is bf16 under autocast
        gb = grad.sum((0, 1)) if ctx.needs_input_grad[2] else None
        return gx, gw, gb, None, None, None, None


class GemmConvTranspose2d(nn.ConvTranspose2d):
    """nn.ConvTranspose2d (same parameters and state_dict) computed as one matrix product.

    The decoder's inputs are 1 to 3 columns wide, for which the library kernels are slow
    on the CPU. Input column j feeds output columns s_w*j .. s_w*j + KW - 1, so the
    columns are unrolled into the product's inner dimension with one zero-padded copy
    of the kernel each; only the rows then overlap. Returns channels-last memory, which
    the following ReLU, BatchNorm and pooling keep.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not gemm_supported(self):
            raise ValueError("GemmConvTranspose2d supports no padding, dilation or groups")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, cin, h, w = x.shape
        _, cout, kh, kw = self.weight.shape
        sh, sw = self.stride
        wo = (w - 1) * sw + kw
        taps = self.weight.permute(0, 2, 3, 1)  # (Cin, KH, KW, Cout)
        unrolled = torch.stack([F.pad(taps, (0, 0, j * sw, wo - kw - j * sw)) for j in range(w)])  # (W, Cin, KH, Wo, Cout)
        x2 = x.permute(0, 2, 3, 1).reshape(b * h, w * cin)  # (B*H, W*Cin), free when x is channels-last
        out = _RowOverlapAdd.apply(x2, unrolled.reshape(w * cin, kh * wo * cout), self.bias.repeat(wo), b, h, kh, sh)
        return out.view(b, -1, wo, cout).permute(0, 3, 1, 2)  # (B, Cout, Ho, Wo), channels-last


def gemm_supported(conv: nn.ConvTranspose2d) -> bool:
    return conv.padding == (0, 0) and conv.output_padding == (0, 0) and conv.dilation == (1, 1) and conv.groups == 1


def use_gemm_transpose_convs(module: nn.Module) -> int:
    """Replace every plain nn.ConvTranspose2d under `module` that the GEMM kernel supports by a
    GemmConvTranspose2d holding the same parameters (no new initialisation: the RNG is
    untouched). Returns how many were replaced."""
    replaced = 0
    for name, child in module.named_children():
        if type(child) is nn.ConvTranspose2d and gemm_supported(child):
            # made on the meta device, which draws no random numbers, then given child's parameters
            fast = GemmConvTranspose2d(child.in_channels, child.out_channels, child.kernel_size, stride=child.stride,
                                       bias=child.bias is not None, device="meta")
            fast.weight, fast.bias = child.weight, child.bias
            fast.train(child.training)
            setattr(module, name, fast)
            replaced += 1
        else:
            replaced += use_gemm_transpose_convs(child)
    return replaced
