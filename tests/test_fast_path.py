"""The fast transpose convolution is the plain one, computed differently."""

import pytest
import torch
from torch import nn

from model import PRESETS, VAE, training_loss
from vae import training
from vae.fastconv import GemmConvTranspose2d, use_gemm_transpose_convs
from vae.parts import build_model


@pytest.mark.parametrize("cin, cout, h, w, stride", [
    (256, 128, 28, 1, (3, 1)), (128, 64, 28, 2, (3, 1)), (64, 1, 28, 3, (3, 1)), (8, 4, 5, 3, (2, 2)),
])
def test_gemm_conv_transpose_matches_the_module_in_float64(cin, cout, h, w, stride):
    torch.manual_seed(0)
    plain = nn.ConvTranspose2d(cin, cout, 5, stride=stride).double()
    fast = GemmConvTranspose2d(cin, cout, 5, stride=stride).double()
    fast.load_state_dict(plain.state_dict())
    x = torch.randn(3, cin, h, w, dtype=torch.float64, requires_grad=True)
    xf = x.detach().clone().requires_grad_()
    y, yf = plain(x), fast(xf)
    assert yf.shape == y.shape
    torch.testing.assert_close(yf, y, rtol=1e-12, atol=1e-12)
    g = torch.randn_like(y)
    y.backward(g)
    yf.backward(g)
    torch.testing.assert_close(xf.grad, x.grad, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(fast.weight.grad, plain.weight.grad, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(fast.bias.grad, plain.bias.grad, rtol=1e-12, atol=1e-12)


def run_both(which, dtype):
    torch.manual_seed(0)
    plain = VAE(PRESETS[which]).to(dtype)
    fast = VAE(PRESETS[which]).to(dtype)
    assert use_gemm_transpose_convs(fast) == 3  # the three blocks' transpose convolutions
    assert list(fast.state_dict()) == list(plain.state_dict())
    fast.load_state_dict(plain.state_dict())
    x = torch.rand(16, 1, 28, 28, dtype=dtype)
    outs = []
    for model in (plain, fast):
        torch.manual_seed(1)  # the same eps and dropout masks
        recon, mu, logvar = model(x)
        loss = training_loss(recon, x, mu, logvar).total
        loss.backward()
        grads = {k: p.grad for k, p in model.named_parameters()}
        outs.append((recon, loss, grads, dict(model.named_buffers())))
    return outs


@pytest.mark.quick
@pytest.mark.parametrize("which", [1, 2])
def test_fast_model_matches_plain_model_in_float64(which):
    """Same weights, same noise: outputs, loss, every gradient and BatchNorm statistic agree."""
    (r0, l0, g0, b0), (r1, l1, g1, b1) = run_both(which, torch.float64)
    torch.testing.assert_close(r1, r0, rtol=0, atol=1e-10)
    torch.testing.assert_close(l1, l0, rtol=0, atol=1e-12)
    for name in g0:
        torch.testing.assert_close(g1[name], g0[name], rtol=1e-8, atol=1e-10, msg=name)
    for name in b0:
        torch.testing.assert_close(b1[name], b0[name], rtol=0, atol=1e-10, msg=name)


@pytest.mark.parametrize("which", [1, 2])
def test_fast_model_matches_plain_model_in_float32(which):
    """In float32 only the summation order differs: the loss agrees within 1e-5."""
    (r0, l0, _, _), (r1, l1, _, _) = run_both(which, torch.float32)
    assert abs(l1.item() - l0.item()) < 1e-5
    assert (r1 - r0).abs().max().item() < 1e-4  # BatchNorm over one channel amplifies rounding


def test_bf16_autocast_step_runs_and_stays_close_to_fp32():
    x = torch.rand(20, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    losses = []
    for bf16 in (False, True):
        torch.manual_seed(0)
        model = VAE(PRESETS[1])
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        torch.manual_seed(1)  # the same eps and dropout masks
        step = training.TrainStep(model, opt, x, 10, bf16=bf16)
        mean_loss, _, _, steps = training.train_epoch(step, torch.arange(20))
        assert all(p.dtype == torch.float32 for p in model.parameters())  # weights stay fp32
        assert torch.isfinite(steps).all()
        losses.append(mean_loss)
    assert abs(losses[0] - losses[1]) < 1e-2 * losses[0]  # bf16 keeps about 3 significant digits


def test_build_model_takes_the_gemm_path_on_cpu_only():
    # On CUDA cuDNN's transpose convolutions were faster (benchmarks/README.md); "meta" stands in
    # for any non-CPU device here.
    on_cpu = build_model(PRESETS[1], "cpu")
    elsewhere = build_model(PRESETS[1], "meta")
    assert isinstance(on_cpu.decoder.blocks[0][0], GemmConvTranspose2d)
    assert type(elsewhere.decoder.blocks[0][0]) is nn.ConvTranspose2d
    assert next(elsewhere.parameters()).device.type == "meta"
    assert list(on_cpu.state_dict()) == list(elsewhere.state_dict())


def test_the_swap_keeps_the_weights_and_draws_no_random_numbers():
    torch.manual_seed(0)
    model = VAE(PRESETS[2])
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rng = torch.get_rng_state()
    use_gemm_transpose_convs(model)
    assert torch.equal(rng, torch.get_rng_state())
    after = model.state_dict()
    assert list(after) == list(before) and all(torch.equal(after[k], before[k]) for k in before)
    assert all(type(b[0]) is GemmConvTranspose2d for b in model.decoder.blocks)
