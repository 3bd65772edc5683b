"""Genre codes on the data side: who gets one (seeded), and that a code is never a target."""

import torch

from lit_gpt2.data.codes import code_labels_masked, coded_scripts


def test_an_uncoded_share_is_left_seeded():
    coded = coded_scripts(1000, 0.1, seed=3)
    assert coded == coded_scripts(1000, 0.1, seed=3) and 60 < coded.count(False) < 140
    assert all(coded_scripts(50, 0.0, seed=3))


def test_code_tokens_are_masked_and_every_other_token_stays_a_target():
    ids = torch.tensor([[50256, 50257, 10, 11], [12, 50258, 50256, 13]])
    labels = code_labels_masked(ids, torch.tensor([50257, 50258]))
    assert labels.tolist() == [[50256, -100, 10, 11], [12, -100, 50256, 13]]
