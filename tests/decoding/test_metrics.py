"""Each metric against the hand-computed vectors of docs/generation-metrics.md."""

import math

import pytest

from lit_gpt2.decoding import metrics

A, B = 1, 2
ABABAB = [A, B, A, B, A, B]


def _words(text: str) -> list[int]:
    vocab: dict[str, int] = {}
    return [vocab.setdefault(w, len(vocab)) for w in text.split()]


def test_distinct_n_divides_by_tokens_not_by_ngrams():
    assert metrics.distinct_n([ABABAB], 1) == pytest.approx(2 / 6)
    assert metrics.distinct_n([ABABAB], 2) == pytest.approx(2 / 6)  # 2 / 5 per n-gram occurrence


def test_distinct_n_is_corpus_level():
    assert metrics.distinct_n([[A, B], [A, B]], 1) == pytest.approx(2 / 4)


def test_seq_rep_n():
    assert metrics.seq_rep_n([ABABAB], 2) == pytest.approx(0.6)
    assert metrics.seq_rep_n([ABABAB], 1) == pytest.approx(0.6667, abs=1e-4)
    assert metrics.seq_rep_n([ABABAB, [1, 2, 3]], 2) == pytest.approx((0.6 + 0.0) / 2)
    # Per sample, unlike rep-n: a looping sample beside a varied one.
    assert metrics.seq_rep_n([ABABAB, [1, 2, 3]], 4) == pytest.approx(1 - 2 / 3)  # [1, 2, 3] has no 4-gram


def test_rep_n_and_diversity():
    assert metrics.rep_n([ABABAB], 2) == pytest.approx(60.0)
    sentence = _words("the cat sat on the mat and the dog sat on the log")
    assert metrics.diversity([sentence]) == pytest.approx(0.7576, abs=1e-4)


def test_self_bleu_is_one_for_identical_and_near_zero_for_disjoint_samples():
    same = [list(range(10))] * 4
    assert metrics.self_bleu4(same) == pytest.approx(1.0)
    disjoint = [list(range(i * 100, i * 100 + 10)) for i in range(4)]
    assert metrics.self_bleu4(disjoint) < 0.01


def test_self_bleu_uses_floor_smoothing_for_missing_higher_order_matches():
    # Unigrams and bigrams match, no trigram or 4-gram does: method1 gives 0.1/count, not zero.
    hyp, ref = [1, 2, 9, 3, 4, 8, 5, 6], [1, 2, 7, 3, 4, 7, 5, 6]
    expected = math.exp((math.log(6 / 8) + math.log(3 / 7) + math.log(0.1 / 6) + math.log(0.1 / 5)) / 4)
    assert metrics.self_bleu4([hyp, ref]) == pytest.approx(expected, rel=1e-4)


def test_self_bleu_of_samples_shorter_than_four_tokens_is_smoothed_like_nltk():
    # Three identical tokens: no 4-gram at all. NLTK's method1 counts that order as 0.1 / 1.
    assert metrics.self_bleu4([[5, 6, 7], [5, 6, 7]]) == pytest.approx(0.1**0.25)
    assert metrics.self_bleu4([[], [5, 6, 7]]) == 0.0  # an empty sample matches nothing


@pytest.mark.parametrize(
    ("sample", "looped"),
    [
        ([1, 2, 3] + [7, 8, 9] * 3, True),
        ([1, 2, 3, 4] + [5, 6] * 2, False),
        ([1, 2, 3, 4] + [5, 6, 7] * 2, False),
        ([1, 2] + [5, 6] * 3 + [50256], True),
    ],
)
def test_loop_at_the_end(sample, looped):
    assert metrics.ends_in_loop(sample, eos_token_id=50256) is looped


def test_repetition_rate_is_a_percentage_of_samples():
    assert metrics.repetition_rate([[1, 2, 3] + [7, 8, 9] * 3, [1, 2, 3, 4]]) == pytest.approx(50.0)


def test_zipf_coefficient_of_a_one_over_rank_corpus_is_one():
    corpus = [[rank] * (600 // rank) for rank in range(1, 60)]
    assert metrics.zipf_coefficient(corpus) == pytest.approx(1.0, abs=0.02)


def test_perplexity_is_token_weighted():
    assert metrics.perplexity(nll_sum=6.0, n_tokens=3) == pytest.approx(math.exp(2.0))
    assert math.isnan(metrics.perplexity(0.0, 0))


def test_strategy_metrics_names():
    names = metrics.strategy_metrics(
        [ABABAB, [1, 2, 3]], nll_sum=9.0, seconds=1.0, prompts=["A\n", "B\n"], texts=["x", "y"]
    ).keys()
    assert {
        "distinct_1",
        "distinct_2",
        "distinct_3",
        "rep_2",
        "rep_3",
        "rep_4",
        "seq_rep_4",
        "diversity",
        "self_bleu4",
        "repetition_rate",
        "zipf",
        "mean_length",
        "perplexity",
        "structure",
        "tokens_per_second",
    } == set(names)
