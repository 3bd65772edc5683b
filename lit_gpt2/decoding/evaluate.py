"""One strategy's samples and every generation metric of them, in one place for all callers."""

from dataclasses import dataclass

from transformers import GPT2LMHeadModel

from lit_gpt2.decoding.generate import Samples, continuation_nll
from lit_gpt2.decoding.metrics import strategy_metrics


@dataclass
class StrategyResult:
    samples: Samples
    metrics: dict[str, float]


def evaluate_samples(model: GPT2LMHeadModel, samples: Samples) -> StrategyResult:
    """Score the samples under the model's raw logits, and measure them."""
    nll = continuation_nll(model, samples)
    return StrategyResult(
        samples, strategy_metrics(samples.continuations, nll, samples.seconds, samples.prompts, samples.texts)
    )
