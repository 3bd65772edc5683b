import math

import pytest

from lit_gpt2.decoding.classify import (
    classifier_labels,
    classify_texts,
    label_distribution,
    label_shares,
    load_classifier,
)
from lit_gpt2.errors import UserInputError


def test_label_distribution_matches_the_worked_example_in_the_docs():
    """docs/generation-metrics.md, "Classifier scoring": 3 of 4 samples noir, 1 comedy."""
    predictions = [
        {"label": "noir", "score": 0.9},
        {"label": "noir", "score": 0.7},
        {"label": "comedy", "score": 0.6},
        {"label": "noir", "score": 0.8},
    ]
    result = label_distribution(predictions, ["noir", "comedy", "western"])
    assert list(result) == ["share/comedy", "share/noir", "share/western", "mean_score"]
    assert result == pytest.approx({"share/comedy": 0.25, "share/noir": 0.75, "share/western": 0.0, "mean_score": 0.75})
    assert label_shares(result) == pytest.approx({"comedy": 0.25, "noir": 0.75, "western": 0.0})


def test_no_predictions_keep_every_column_with_zero_shares_and_a_nan_mean():
    result = label_distribution([], ["noir", "comedy"])
    assert {k: v for k, v in result.items() if k != "mean_score"} == {"share/comedy": 0.0, "share/noir": 0.0}
    assert math.isnan(result["mean_score"])


def test_a_tiny_classifier_scores_texts_with_its_own_labels_and_skips_empty_ones(tiny_classifier):
    classifier = load_classifier(str(tiny_classifier), device="cpu")
    assert classifier_labels(classifier) == ["comedy", "noir"]
    result = classify_texts(classifier, ["INT. DINER - NIGHT\n\nRain.", "", "  \n", "MARGO\nHello."])
    assert list(result) == ["share/comedy", "share/noir", "mean_score"]
    # Two non-empty texts: each share is 0, 1/2 or 1, and the empty ones are not counted.
    assert result["share/comedy"] + result["share/noir"] == pytest.approx(1.0)
    assert result["share/comedy"] in (0.0, 0.5, 1.0)
    assert 0.5 <= result["mean_score"] <= 1.0  # the top label of two has at least half the probability
    only_empty = classify_texts(classifier, ["", " "])
    assert only_empty["share/comedy"] == only_empty["share/noir"] == 0.0 and math.isnan(only_empty["mean_score"])


def test_a_model_without_a_classification_head_is_refused(tiny_export):
    with pytest.raises(UserInputError, match=r"not a text-classification model \(GPT2LMHeadModel\)"):
        load_classifier(str(tiny_export))


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("/no/such/classifier", "classifier folder '/no/such/classifier' does not exist"),
        ("someone/no-such-classifier", "not in the Hugging Face cache, and the hub is unreachable"),
    ],
)
def test_a_missing_classifier_is_refused_in_one_line(name, message):
    with pytest.raises(UserInputError, match=message) as caught:
        load_classifier(name)
    assert "\n" not in str(caught.value)


def test_a_folder_without_a_model_is_refused(tmp_path):
    with pytest.raises(UserInputError, match="holds no Hugging Face model"):
        load_classifier(str(tmp_path))
