"""Classifier scoring: what a text-classification model (sentiment, genre, ...) says of the samples.

The definitions of ``share/<label>`` and ``mean_score``, with a worked example, are in
``docs/generation-metrics.md`` ("Classifier scoring").
"""

import math
from collections.abc import Sequence
from pathlib import Path

from transformers import AutoConfig, Pipeline, pipeline

from lit_gpt2.errors import UserInputError
from lit_gpt2.modeling.hub import hub_reachable


def load_classifier(name_or_dir: str, device: str | None = None) -> Pipeline:
    """A ``text-classification`` pipeline of a local folder, or of a hub name (from the cache offline).

    ``device`` places the classifier ("cpu", "cuda:1", ...) apart from the generator; None takes
    the pipeline's default (the first accelerator, else the CPU). A missing folder, an unknown or
    unreachable hub name and a model without a sequence-classification head are refused in one line.
    """
    config = _classifier_config(name_or_dir)
    architectures = config.architectures or []
    if not any(name.endswith("ForSequenceClassification") for name in architectures):
        found = ", ".join(architectures) or "no architecture recorded"
        raise UserInputError(
            f"classifier {name_or_dir!r} is not a text-classification model ({found}): give a model with a "
            "sequence-classification head, e.g. distilbert-base-uncased-finetuned-sst-2-english"
        )
    path = Path(name_or_dir).expanduser()
    try:
        return pipeline("text-classification", model=str(path) if path.is_dir() else name_or_dir, device=device)
    except OSError as err:  # a folder with a model but no tokenizer, say
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UserInputError(
            f"classifier {name_or_dir!r} cannot be loaded ({first_line}): save its tokenizer beside the model"
        ) from None


def _classifier_config(name_or_dir: str):
    path = Path(name_or_dir).expanduser()
    if path.is_dir():
        try:
            return AutoConfig.from_pretrained(path)
        except (OSError, ValueError):
            raise UserInputError(
                f"classifier folder {name_or_dir!r} holds no Hugging Face model (no readable config.json): "
                "give a folder saved with save_pretrained, or a hub name"
            ) from None
    if name_or_dir.startswith((".", "/", "~")) or name_or_dir.count("/") > 1:
        raise UserInputError(f"classifier folder {name_or_dir!r} does not exist: give a model folder or a hub name")
    try:
        return AutoConfig.from_pretrained(name_or_dir, local_files_only=True)
    except (OSError, ValueError):
        if not hub_reachable():
            raise UserInputError(
                f"classifier {name_or_dir!r} is not a local folder, not in the Hugging Face cache, and the hub "
                "is unreachable: give a model folder, or run once with network access"
            ) from None
    try:
        return AutoConfig.from_pretrained(name_or_dir)
    except (OSError, ValueError):
        raise UserInputError(
            f"classifier {name_or_dir!r} was not found on the Hugging Face hub: check the name"
        ) from None


def classifier_labels(classifier: Pipeline) -> list[str]:
    """Every label the classifier can give, sorted: the columns of its scores."""
    return sorted((classifier.model.config.id2label or {}).values())


def classify_texts(classifier: Pipeline, texts: Sequence[str]) -> dict[str, float]:
    """``share/<label>`` for every label and ``mean_score`` of the texts (one strategy's samples).

    Empty (or whitespace-only) texts are left out: a classifier's verdict on no text says nothing
    about the text. Texts longer than the classifier's context are truncated.
    """
    kept = [text for text in texts if text.strip()]
    predictions = classifier(kept, truncation=True) if kept else []
    return label_distribution(predictions, classifier_labels(classifier))


def label_shares(scores: dict[str, float]) -> dict[str, float]:
    """``{label: share}`` from ``classify_texts``' scores: what a label-share chart draws."""
    return {key.removeprefix("share/"): value for key, value in scores.items() if key.startswith("share/")}


def label_distribution(predictions: Sequence[dict], labels: Sequence[str] = ()) -> dict[str, float]:
    """Share of each label among the predictions (``{"label": ..., "score": ...}``, the top label per
    text) and the mean score of the top label.

    Every label in ``labels`` gets a ``share/<label>`` key (0.0 if never predicted), so columns stay the
    same from round to round; keys are sorted by label, ``mean_score`` last. With no predictions every
    share is 0.0 and ``mean_score`` is NaN.
    """
    names = sorted(set(labels) | {p["label"] for p in predictions})
    counts = dict.fromkeys(names, 0)
    for prediction in predictions:
        counts[prediction["label"]] += 1
    total = len(predictions)
    shares = {f"share/{name}": (count / total if total else 0.0) for name, count in counts.items()}
    mean_score = sum(p["score"] for p in predictions) / total if total else math.nan
    return shares | {"mean_score": mean_score}
