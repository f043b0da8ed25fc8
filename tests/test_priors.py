"""The priors p(z): the autoregressive flow's order, its density (it integrates to 1, and its
draws follow it), and its KL and log ratio at a draw; N(0, I) as before."""

import math

import pytest
import torch

from model import StandardNormal, kl_per_element
from vae.priors import MADE, MAF


def random_flow(dims=2, layers=2, hidden=16, seed=0):
    """A flow with its last layers away from zero (they start at zero: the identity)."""
    torch.manual_seed(seed)
    flow = MAF((dims,), prior_layers=layers, prior_hidden=hidden).double()
    for made in flow.layers:
        torch.nn.init.normal_(made.fc_out.weight, std=0.5)
        torch.nn.init.normal_(made.fc_out.bias, std=0.5)
    return flow


@pytest.mark.quick
def test_each_output_of_the_masked_network_sees_only_the_elements_before_it():
    made = MADE(6, 32).double()
    torch.nn.init.normal_(made.fc_out.weight)
    z = torch.randn(6, dtype=torch.float64)
    for output in (0, 1):  # the shift, the log-scale
        jac = torch.autograd.functional.jacobian(lambda v: made(v)[output], z)  # (6, 6): d out_d / d z_j
        assert torch.all(jac.triu() == 0)  # nothing at or after its own element
        assert torch.all(jac.tril(-1)[1:].abs().sum(1) > 0)  # and something before it, from element 1 on


@pytest.mark.quick
def test_a_new_flow_is_the_standard_normal():
    flow = MAF((5,)).double()
    z = torch.randn(7, 5, dtype=torch.float64)
    expected = -0.5 * z.pow(2) - 0.5 * math.log(2 * math.pi)
    assert torch.allclose(flow.log_prob_elements(z), expected)


@pytest.mark.quick
def test_the_flow_density_integrates_to_one_and_its_draws_follow_it():
    flow = random_flow()
    grid = torch.linspace(-9, 9, 601, dtype=torch.float64)
    z = torch.cartesian_prod(grid, grid)  # (601^2, 2)
    density = flow.log_prob_elements(z).sum(1).exp()
    cell = (grid[1] - grid[0]) ** 2
    assert (density.sum() * cell).item() == pytest.approx(1.0, abs=1e-3)
    mean_by_density = (density[:, None] * z).sum(0) * cell
    draws = flow.sample(40000, (2,), torch.Generator().manual_seed(1), "cpu")
    assert draws.dtype == torch.float64 and draws.shape == (40000, 2)
    assert torch.allclose(draws.mean(0), mean_by_density, atol=0.03)
    assert (mean_by_density.abs() > 0.1).any()  # a flow away from N(0, I): the check can fail


@pytest.mark.quick
def test_kl_and_log_ratio_at_a_draw_are_log_q_minus_log_p():
    flow = random_flow(dims=3)
    mu, logvar = torch.randn(4, 3, dtype=torch.float64), torch.randn(4, 3, dtype=torch.float64)
    eps = torch.randn(4, 3, dtype=torch.float64)
    z = mu + eps * (0.5 * logvar).exp()
    log_q = torch.distributions.Normal(mu, (0.5 * logvar).exp()).log_prob(z).sum(1)
    log_p = flow.log_prob_elements(z).sum(1)
    assert torch.allclose(flow.kl_elements(z, mu, logvar).sum(1), log_q - log_p)
    assert torch.allclose(flow.log_ratio_elements(z, eps, logvar).sum(1), log_p - log_q)
    normal = StandardNormal()
    assert torch.equal(normal.kl_elements(z, mu, logvar), kl_per_element(mu, logvar))
    log_n = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(1)
    assert torch.allclose(normal.log_ratio_elements(z, eps, logvar).sum(1), log_n - log_q)


def test_a_vae_with_the_flow_prior_trains_resumes_and_samples(mnist_root, tmp_path):
    import main
    from vae.files import load_checkpoint, load_model
    from vae.measures import iwae_nats

    out = tmp_path / "maf"
    args = ["--encoder", "mlp", "--decoder", "mlp", "--prior", "maf", "--prior-layers", "2", "--prior-hidden", "32",
            "--binarize", "dynamic", "--limit", "300", "--data-root", str(mnist_root), "--out-dir", str(out),
            "--device", "cpu", "--no-progress"]
    assert main.main([*args, "--epochs", "1"]) == 0
    assert main.main([*args, "--epochs", "2", "--resume"]) == 0
    state = load_checkpoint(out / "checkpoint.pt")
    assert state["config"]["prior"] == "maf" and dict(state["config"]["prior_options"]) == {
        "prior_layers": 2, "prior_hidden": 32}
    assert any(k.startswith("prior.layers.1.") for k in state["model"])
    model = load_model(out / "checkpoint.pt")
    assert isinstance(model.prior, MAF) and model.prior.layers[0].fc_out.weight.abs().sum() > 0  # it trained
    x = (torch.rand(5, 1, 28, 28, generator=torch.Generator().manual_seed(0)) > 0.5).float()
    assert torch.isfinite(iwae_nats(model, x, 10)).all()
    assert model.sample(4, torch.Generator().manual_seed(0)).shape == (4, 1, 28, 28)
