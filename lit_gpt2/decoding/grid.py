"""The strategy x genre sample grid: every strategy's samples of one prompt set, once per genre asked
for, each measured. Built here for the sample callback and ``lit-gpt2 compare`` alike."""

from collections.abc import Callable, Iterable, Sequence

from transformers import GPT2LMHeadModel, PreTrainedTokenizerBase

from lit_gpt2.decoding.evaluate import StrategyResult, evaluate_samples
from lit_gpt2.decoding.generate import generate_samples
from lit_gpt2.decoding.strategies import DecodingStrategy
from lit_gpt2.modeling.control import coded_prompts

Cell = tuple[DecodingStrategy, str | None]  # a strategy and the genre asked for (None: no code)


def sample_grid(
    model: GPT2LMHeadModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[str],
    strategies: Sequence[DecodingStrategy],
    genres: Sequence[str | None],
    max_new_tokens: int,
    seed: int,
    synced_gpus: bool = False,
    progress: Callable[[Iterable[Cell]], Iterable[Cell]] = iter,
    num_samples: int = 1,
    stop: Sequence[str] = (),
) -> dict[Cell, StrategyResult]:
    """Samples and metrics per strategy and genre, in that order (strategy by strategy, its genres within).

    Every cell uses the same prompts and ``seed``, so cells compare. A genre's code starts each of its
    prompts; every genre is checked against the model (``UserInputError``) before anything is generated.
    ``progress`` wraps the iteration over cells (a progress bar); ``synced_gpus``, ``num_samples`` and
    ``stop`` as in ``generate_samples``.
    """
    asked = {genre: coded_prompts(model, prompts, genre) for genre in genres}
    cells = [(strategy, genre) for strategy in strategies for genre in genres]
    return {
        (strategy, genre): evaluate_samples(
            model,
            generate_samples(
                model, tokenizer, asked[genre], strategy, max_new_tokens, seed, synced_gpus, num_samples, stop
            ),
        )
        for strategy, genre in progress(cells)
    }
