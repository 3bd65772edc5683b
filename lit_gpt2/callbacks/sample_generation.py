"""Samples from every decoding strategy, with their metrics, in TensorBoard before and during training."""

from collections.abc import Sequence
from typing import Any

import lightning as L
from lightning.pytorch.utilities import rank_zero_warn
from torch.utils.tensorboard import SummaryWriter
from transformers import Pipeline

from lit_gpt2.callbacks.periodic import PeriodicTensorBoardCallback
from lit_gpt2.callbacks.tensorboard import add_figure, tensorboard_writer
from lit_gpt2.decoding.classify import classify_texts, label_shares, load_classifier
from lit_gpt2.decoding.distribution import next_token_distribution
from lit_gpt2.decoding.generate import DEFAULT_PROMPTS
from lit_gpt2.decoding.grid import sample_grid
from lit_gpt2.decoding.strategies import DEFAULT_CALLBACK_STRATEGIES, resolve_strategies
from lit_gpt2.errors import UserInputError
from lit_gpt2.modeling.control import check_genre, model_genres
from lit_gpt2.module import GPT2LitModule, lit_module
from lit_gpt2.plots import label_share_bars, next_token_chart


class SampleGenerationCallback(PeriodicTensorBoardCallback):
    """Generate from fixed prompts with fixed seeds under each strategy, so epochs are comparable.

    Runs once before training (logged at step 0, the "before fine-tuning" baseline) and then at every
    validation (or every ``every_n_epochs`` epochs, or every ``every_n_steps`` optimizer steps). Logs
    ``samples/<strategy>`` (markdown: prompt | continuation) and the chart ``probs/next_token`` to
    TensorBoard, and the scalars ``gen/<strategy>/<metric>`` and ``gen/seconds`` to every logger.

    Args:
        prompts: Prompts continued by every strategy (batched per strategy).
        strategies: Preset names (see ``lit_gpt2.decoding.PRESETS``) or custom strategies given as the
            fields of ``lit_gpt2.decoding.DecodingStrategy`` (name, do_sample, num_beams, temperature,
            top_k, top_p, typical_p, min_p, repetition_penalty, no_repeat_ngram_size).
        max_new_tokens: Tokens generated per prompt.
        seed: Seed of every strategy's sampling, the same every epoch.
        every_n_epochs: A round every N epochs instead of at every validation.
        chart_prompt: Prompt of the next-token chart; default the first prompt.
        every_n_steps: A round every N optimizer steps instead of at every validation.
        classifier: A text-classification model (a local folder, or a hub name online) that scores every
            sample: logs ``gen/<strategy>/classifier/share/<label>`` and ``gen/<strategy>/classifier/mean_score``,
            and the chart ``classifier/labels`` (each strategy's, and genre's, label shares as stacked bars).
        classifier_device: Device of the classifier ("cpu", "cuda:1", ...); default the first GPU, else the CPU.
        genres: Genres to ask for too (models trained with ``data.control=genre``): each strategy also
            continues the prompts after each genre's code, logged as ``samples/<strategy>/<genre>`` and
            ``gen/<strategy>/<genre>/<metric>``. Each genre costs as much as the uncoded round.
    """

    seconds_tag = "gen/seconds"

    def __init__(
        self,
        prompts: Sequence[str] = DEFAULT_PROMPTS,
        strategies: Sequence[str | dict[str, Any]] = DEFAULT_CALLBACK_STRATEGIES,
        max_new_tokens: int = 16,
        seed: int = 1234,
        every_n_epochs: int | None = None,
        chart_prompt: str | None = None,
        every_n_steps: int | None = None,
        classifier: str | None = None,
        classifier_device: str | None = None,
        genres: Sequence[str] = (),
    ) -> None:
        super().__init__(every_n_epochs, every_n_steps)
        if not prompts:
            raise UserInputError("SampleGenerationCallback needs at least one prompt")
        if max_new_tokens < 1:
            raise UserInputError(f"max_new_tokens={max_new_tokens} must be at least 1")
        self.prompts = list(prompts)
        self.strategies = resolve_strategies(strategies)
        self.max_new_tokens = max_new_tokens
        self.seed = seed
        self.chart_prompt = chart_prompt or self.prompts[0]
        self.classifier = classifier
        self.classifier_device = classifier_device
        self.genres = list(genres)
        self._classifier: Pipeline | None = None  # loaded in setup, on rank 0, which alone draws the rounds' scalars
        # The last round's (prompt, continuation) pairs per strategy: what an export's model card shows.
        self.last_samples: dict[str, list[tuple[str, str]]] = {}

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        model = lit_module(pl_module).model
        context = model.config.n_positions
        if self.max_new_tokens >= context:
            raise UserInputError(
                f"SampleGenerationCallback max_new_tokens={self.max_new_tokens} does not fit the model's "
                f"{context}-token context: use at most {context - 1}"
            )
        for genre in self.genres:  # an unknown genre is refused before training, with the known ones
            check_genre(genre, model_genres(model))
        if trainer.is_global_zero and tensorboard_writer(trainer) is None:
            rank_zero_warn(
                "SampleGenerationCallback draws its samples and charts in TensorBoard, and this run has no "
                "TensorBoardLogger: only the gen/ scalars are logged"
            )
        if self.classifier and trainer.is_global_zero and self._classifier is None:
            self._classifier = load_classifier(self.classifier, self.classifier_device)

    def log_round(
        self, trainer: L.Trainer, pl_module: GPT2LitModule, writer: SummaryWriter | None, sharded: bool
    ) -> dict[str, float]:
        step = trainer.global_step
        scalars: dict[str, float] = {}
        shares: dict[str, dict[str, float]] = {}
        model, genres = pl_module.model, [None, *self.genres]
        grid = sample_grid(
            model, pl_module.tokenizer, self.prompts, self.strategies, genres, self.max_new_tokens, self.seed, sharded
        )
        for (strategy, genre), result in grid.items():
            name = strategy.name if genre is None else f"{strategy.name}/{genre}"
            scalars |= {f"gen/{name}/{metric}": value for metric, value in result.metrics.items()}
            if self._classifier is not None:
                scores = classify_texts(self._classifier, result.samples.texts)
                scalars |= {f"gen/{name}/classifier/{key}": value for key, value in scores.items()}
                shares[name] = label_shares(scores)
            if writer is not None:
                writer.add_text(f"samples/{name}", result.samples.markdown(), step)
            self.last_samples[name] = list(zip(result.samples.prompts, result.samples.texts))
        distribution = next_token_distribution(pl_module.model, pl_module.tokenizer, self.chart_prompt)
        if writer is not None:
            add_figure(writer, "probs/next_token", next_token_chart(distribution), step)
            if shares:
                chart = label_share_bars(shares, f"Classifier: {self.classifier}")
                add_figure(writer, "classifier/labels", chart, step)
        return scalars
