"""Where each attention head looks: heatmaps and statistics in TensorBoard before and during training."""

from collections.abc import Sequence
from functools import partial

import lightning as L
import torch
from torch.utils.tensorboard import SummaryWriter

from lit_gpt2.callbacks.periodic import PeriodicTensorBoardCallback, first_validation_tokens
from lit_gpt2.callbacks.tensorboard import add_figure
from lit_gpt2.errors import UserInputError
from lit_gpt2.inspect.probe import DEFAULT_PROBE_TEXT, probe_attention, probe_head_scores
from lit_gpt2.inspect.statistics import attention_rollout, attention_statistics
from lit_gpt2.module import GPT2LitModule, lit_module
from lit_gpt2.plots import AttentionHeatmapChart, HeadScoreChart, attention_grid

HEAD_SCORE_CANDIDATE_TOKENS = 4096  # validation tokens whose distinct ids the head-score probe draws from


class AttentionHeatmapCallback(PeriodicTensorBoardCallback):
    """Probe attention with a fixed text, once before training and then at every validation (or every
    ``every_n_epochs`` epochs, or every ``every_n_steps`` optimizer steps).

    Logs images ``attention/grid`` (layers x heads), ``attention/layer{L}/head{H}`` (token labels on
    both axes) and ``attention/rollout``; scalars ``attn/layer{L}/<statistic>`` (mean over heads) and
    ``attn/seconds``. Attention weights show where a head reads, not how much that matters to the output.

    Head scores (docs/head-scores.md), from a second probe on seeded random tokens repeated twice (drawn
    from the distinct tokens of the first validation blocks, tokens the model has seen):
    images ``heads/previous_token``, ``heads/duplicate_token``, ``heads/induction`` (layers x heads)
    and scalars ``heads/max_<kind>``.

    Args:
        probe_text: Short text whose attention is drawn (kept under the model's context).
        heads: (layer, head) pairs drawn full size; default head 0 of the first and last layer.
        every_n_epochs: A probe every N epochs instead of at every validation.
        every_n_steps: A probe every N optimizer steps instead of at every validation.
        prepend_eos: Start the probe with <|endoftext|> so the attention sink sits on a fixed token.
        head_score_length: Random tokens in each half of the head-score probe; 0 turns head scores off.
    """

    seconds_tag = "attn/seconds"

    def __init__(
        self,
        probe_text: str = DEFAULT_PROBE_TEXT,
        heads: Sequence[tuple[int, int]] | None = None,
        every_n_epochs: int | None = None,
        prepend_eos: bool = True,
        every_n_steps: int | None = None,
        head_score_length: int = 20,
    ) -> None:
        super().__init__(every_n_epochs, every_n_steps)
        if head_score_length < 0 or head_score_length == 1:
            raise UserInputError(f"head_score_length={head_score_length} must be 0 (off) or at least 2")
        self.head_score_length = head_score_length
        self._candidates: list[int] | None = None
        if not probe_text.strip():
            raise UserInputError("AttentionHeatmapCallback needs a non-empty probe_text")
        self.probe_text = probe_text
        self.heads = list(heads) if heads is not None else None
        self.prepend_eos = prepend_eos

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        config = lit_module(pl_module).model.config
        if self.heads is None:
            self.heads = sorted({(0, 0), (config.n_layer - 1, 0)})
        for layer, head in self.heads or []:  # set in setup
            if not (0 <= layer < config.n_layer and 0 <= head < config.n_head):
                raise UserInputError(
                    f"AttentionHeatmapCallback head ({layer}, {head}) does not exist: the model has layers "
                    f"0-{config.n_layer - 1} and heads 0-{config.n_head - 1}"
                )

    def log_round(
        self, trainer: L.Trainer, pl_module: GPT2LitModule, writer: SummaryWriter | None, sharded: bool
    ) -> dict[str, float]:
        probe = probe_attention(pl_module.model, pl_module.tokenizer, [self.probe_text], self.prepend_eos)
        scalars = {
            f"attn/layer{layer}/{name}": torch.nanmean(per_head).item()
            for layer, attention in enumerate(probe.attentions)
            for name, per_head in attention_statistics(attention, probe.attention_mask).items()
        }
        scores = {}
        if self.head_score_length:
            if self._candidates is None:
                # Tokens the model sees in training: random ids from a small fitted vocabulary include
                # ones it never saw, whose attention says nothing. The whole vocabulary without data.
                seen = first_validation_tokens(trainer, HEAD_SCORE_CANDIDATE_TOKENS)
                self._candidates = sorted(set(seen)) if seen else list(range(len(pl_module.tokenizer)))
            scores = probe_head_scores(pl_module.model, pl_module.tokenizer, self.head_score_length, self._candidates)
        scalars |= {f"heads/max_{kind}": values.max().item() for kind, values in scores.items()}
        if writer is None:
            return scalars  # no TensorBoard, or a sharded rank that only had to join the forward pass
        step = trainer.global_step
        for kind, values in scores.items():
            layers, heads = values.shape
            chart = self.kept_chart(f"heads/{kind}", (layers, heads), partial(HeadScoreChart, layers, heads, kind))
            add_figure(writer, f"heads/{kind}", chart.show(values), step)
        tokens = probe.tokens[0]
        add_figure(writer, "attention/grid", attention_grid(probe.attentions), step)
        maps = [  # (tag, title, weights)
            (f"attention/layer{layer}/head{head}", f"layer {layer}, head {head}", probe.attentions[layer][0, head])
            for layer, head in self.heads or []  # set in setup
        ]
        maps.append(("attention/rollout", "attention rollout", attention_rollout(probe.attentions)[0]))
        for tag, title, weights in maps:
            heatmap = self.kept_chart(tag, tuple(tokens), partial(AttentionHeatmapChart, tokens))
            add_figure(writer, tag, heatmap.show(weights, title), step)
        return scalars
