"""One strategy on a prompt set: its samples and every generation metric, in one place for all callers."""

from dataclasses import dataclass

from transformers import PreTrainedModel, PreTrainedTokenizerBase

from lit_gpt2.decoding.generate import Samples, continuation_nll, generate_samples
from lit_gpt2.decoding.metrics import strategy_metrics
from lit_gpt2.decoding.strategies import DecodingStrategy


@dataclass
class StrategyResult:
    samples: Samples
    metrics: dict[str, float]


def evaluate_strategy(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: list[str],
    strategy: DecodingStrategy,
    max_new_tokens: int,
    seed: int,
    synced_gpus: bool = False,
) -> StrategyResult:
    """Generate, score the samples under the model's raw logits, and measure them."""
    samples = generate_samples(model, tokenizer, prompts, strategy, max_new_tokens, seed, synced_gpus)
    nll = continuation_nll(model, samples)
    return StrategyResult(samples, strategy_metrics(samples.continuations, nll, samples.seconds))
