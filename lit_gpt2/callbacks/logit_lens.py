"""What the model would predict after each layer, and which tokens of a real passage surprise it,
before training and at every round (docs/logit-lens-and-surprisal.md)."""

from functools import partial

import lightning as L
import torch
from lightning.pytorch.utilities import rank_zero_warn
from torch.utils.tensorboard import SummaryWriter

from lit_gpt2.callbacks.periodic import PeriodicTensorBoardCallback, first_validation_tokens
from lit_gpt2.callbacks.tensorboard import add_figure
from lit_gpt2.errors import UserInputError
from lit_gpt2.inspect.lens import lens_pass, surprisal_pass
from lit_gpt2.inspect.probe import DEFAULT_PROBE_TEXT
from lit_gpt2.modeling.tokenizer import token_texts
from lit_gpt2.module import GPT2LitModule
from lit_gpt2.plots import LogitLensChart, surprisal_chart


class LogitLensCallback(PeriodicTensorBoardCallback):
    """The logit lens on a fixed probe text and per-token surprisal of a fixed validation passage, on
    the watching callbacks' schedule (once before training, then at every validation by default).

    Logs the image ``lens/top_tokens`` (layers x positions: the top next token after each layer,
    coloured by its probability) and the scalars ``lens/embed/loss`` and ``lens/layer{L}/loss`` (the
    cross-entropy, in nats, of each layer's guess against the true next tokens); the image and text
    ``surprisal/passage`` (the first validation block's first tokens, each shaded by its surprisal in
    bits) and the scalar ``surprisal/mean_bits``; and ``lens/seconds``.

    Args:
        probe_text: Text the lens reads (with <|endoftext|> first, as the attention probe).
        lens_tokens: Positions of the probe text drawn (the image gets unreadable beyond about 32).
        passage_tokens: Tokens of the validation passage shaded by surprisal; 0 turns it off.
        every_n_epochs: A round every N epochs instead of at every validation.
        every_n_steps: A round every N optimizer steps instead of at every validation.
    """

    seconds_tag = "lens/seconds"

    def __init__(
        self,
        probe_text: str = DEFAULT_PROBE_TEXT,
        lens_tokens: int = 24,
        passage_tokens: int = 96,
        every_n_epochs: int | None = None,
        every_n_steps: int | None = None,
    ) -> None:
        super().__init__(every_n_epochs, every_n_steps)
        if not probe_text.strip():
            raise UserInputError("LogitLensCallback needs a non-empty probe_text")
        if lens_tokens < 2 or passage_tokens < 0 or passage_tokens == 1:
            raise UserInputError(
                f"LogitLensCallback: lens_tokens={lens_tokens} must be at least 2 and "
                f"passage_tokens={passage_tokens} 0 (off) or at least 2"
            )
        self.probe_text = probe_text
        self.lens_tokens = lens_tokens
        self.passage_tokens = passage_tokens
        self._passage: list[int] | None = None

    def log_round(
        self, trainer: L.Trainer, pl_module: GPT2LitModule, writer: SummaryWriter | None, sharded: bool
    ) -> dict[str, float]:
        tokenizer = pl_module.tokenizer
        probe_ids = [tokenizer.eos_token_id, *tokenizer(self.probe_text)["input_ids"]][: self.lens_tokens]
        lens = lens_pass(pl_module.model, probe_ids).lens
        scalars = {f"lens/{name}/loss": loss.item() for name, loss in zip(lens.row_names, lens.losses)}
        passage = self._validation_passage(trainer)
        read = surprisal_pass(pl_module.model, passage) if passage else None
        if read is not None:
            scalars["surprisal/mean_bits"] = read[1].mean().item()
        if writer is None:
            return scalars
        step = trainer.global_step
        top_tokens = [token_texts(tokenizer, row) for row in lens.top_ids.tolist()]
        inputs = token_texts(tokenizer, probe_ids)
        built_for = (tuple(lens.row_names), tuple(inputs))
        chart = self.kept_chart("lens/top_tokens", built_for, partial(LogitLensChart, lens.row_names, inputs))
        add_figure(writer, "lens/top_tokens", chart.show(top_tokens, lens.top_probs), step)
        if read is not None:
            self._log_surprisal(writer, tokenizer, read, step)
        return scalars

    def _log_surprisal(
        self, writer: SummaryWriter, tokenizer, read: tuple[torch.Tensor, torch.Tensor], step: int
    ) -> None:
        ids, surprisal_bits = read
        tokens = token_texts(tokenizer, ids.tolist()[1:])  # the first has no surprisal
        bits = surprisal_bits.tolist()
        add_figure(writer, "surprisal/passage", surprisal_chart(tokens, bits), step)
        cells = (repr(t)[1:-1].replace("|", "\\|") for t in tokens)  # a | would end the table cell
        rows = "\n".join(f"| {cell} | {b:.2f} |" for cell, b in zip(cells, bits))
        writer.add_text("surprisal/passage", f"| token | surprisal (bits) |\n|---|---|\n{rows}", step)

    def _validation_passage(self, trainer: L.Trainer) -> list[int] | None:
        """The first tokens of the validation blocks: the same passage every round."""
        if self._passage is None and self.passage_tokens:
            self._passage = first_validation_tokens(trainer, self.passage_tokens)
            if self._passage is None:
                rank_zero_warn("LogitLensCallback: no validation data, so no surprisal passage")
                self.passage_tokens = 0
        return self._passage
