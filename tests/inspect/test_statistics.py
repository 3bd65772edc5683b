"""Statistics against the closed-form vectors of docs/attention-statistics.md (T = 5)."""

import math

import pytest
import torch

from lit_gpt2.inspect.statistics import attention_rollout, attention_statistics, classify_heads

T = 5


def _pattern(name: str) -> torch.Tensor:
    if name == "uniform":
        causal = torch.tril(torch.ones(T, T))
        return causal / causal.sum(-1, keepdim=True)
    if name == "identity":
        return torch.eye(T)
    if name == "first":
        a = torch.zeros(T, T)
        a[:, 0] = 1
        return a
    a = torch.zeros(T, T)  # previous token, row 0 on itself
    a[0, 0] = 1
    for i in range(1, T):
        a[i, i - 1] = 1
    return a


@pytest.mark.parametrize(
    ("pattern", "first_mass", "entropy", "distance"),
    [
        ("uniform", 0.45667, 0.95750, 1.0),
        ("identity", 0.2, 0.0, 0.0),
        ("first", 1.0, 0.0, 2.0),
        ("previous", 0.4, 0.0, 0.8),
    ],
)
def test_closed_form_vectors(pattern, first_mass, entropy, distance):
    stats = attention_statistics(_pattern(pattern)[None, None])
    assert stats["first_token_mass"].item() == pytest.approx(first_mass, abs=1e-5)
    assert stats["entropy"].item() == pytest.approx(entropy, abs=1e-5)
    assert stats["mean_distance"].item() == pytest.approx(distance, abs=1e-5)


def test_row_level_statistics_of_the_reference_patterns():
    uniform = attention_statistics(_pattern("uniform")[None, None])
    assert uniform["normalised_entropy"].item() == pytest.approx(1.0)  # row 0 excluded
    assert uniform["previous_token_mass"].item() == pytest.approx((1 / 2 + 1 / 3 + 1 / 4 + 1 / 5) / 4)
    assert uniform["self_mass"].item() == pytest.approx(0.45667, abs=1e-5)
    previous = attention_statistics(_pattern("previous")[None, None])
    assert previous["previous_token_mass"].item() == pytest.approx(1.0)
    # Excluding the first token: row 1 (all mass on token 0) has nothing left and drops out.
    assert previous["mean_distance_no_first"].item() == pytest.approx(1.0)


def test_distance_without_the_first_token_renormalises_each_row():
    # docs/attention-statistics.md's 3 x 3 example: rows 1 and 2 renormalised without key 0 are
    # (1) at distance 0 and (1/3, 2/3) at distances (1, 0); row 0 has nothing left. (0 + 1/3) / 2.
    a = torch.tensor([[1.0, 0, 0], [0.5, 0.5, 0], [0.25, 0.25, 0.5]])
    assert attention_statistics(a[None, None])["mean_distance_no_first"].item() == pytest.approx(1 / 6)
    # A sink head's leftover counts in full once renormalised: its rows are as far as their rest says.
    sink = torch.tensor([[1.0, 0, 0], [0.99, 0.01, 0], [0.98, 0.01, 0.01]])
    assert attention_statistics(sink[None, None])["mean_distance_no_first"].item() == pytest.approx(0.25)


def test_left_padding_is_ignored():
    single = _pattern("uniform")
    padded = torch.zeros(7, 7)
    padded[2:, 2:] = single
    padded[:2, :2] = torch.eye(2)  # whatever a padded row holds, it must not count
    batch = torch.stack([padded, torch.nn.functional.pad(torch.eye(5), (2, 0, 2, 0))])[:, None]
    mask = torch.tensor([[0, 0, 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1, 1]])
    stats = attention_statistics(batch[:1], mask[:1])
    alone = attention_statistics(single[None, None])
    for name, value in alone.items():
        assert stats[name].item() == pytest.approx(value.item(), abs=1e-9), name


def test_rollout_adds_identity_renormalises_and_multiplies_layers():
    a1, a2 = _pattern("uniform"), _pattern("previous")
    hat = [(a + torch.eye(T)) / (a + torch.eye(T)).sum(-1, keepdim=True) for a in (a1, a2)]
    rollout = attention_rollout([a1[None, None], a2[None, None]])[0]
    assert torch.allclose(rollout, (hat[1] @ hat[0]).double())
    assert torch.allclose(rollout.sum(-1), torch.ones(T, dtype=torch.double))


def test_head_classes_follow_the_thresholds():
    stats = {
        "previous_token_mass": torch.tensor([[0.9, 0.1], [0.2, 0.1]]),
        "first_token_mass": torch.tensor([[0.1, 0.7], [0.2, 0.1]]),
        "normalised_entropy": torch.tensor([[0.1, 0.2], [0.95, 0.3]]),
    }
    assert classify_heads(stats) == {"previous_token": [(0, 0)], "sink": [(0, 1)], "broad": [(1, 0)]}
    assert classify_heads(stats, previous_threshold=0.95)["previous_token"] == []


def test_entropy_treats_zero_weights_as_zero_contribution():
    assert not math.isnan(attention_statistics(_pattern("identity")[None, None])["entropy"].item())
