"""Does the model follow its genre codes? ``val/genre_accuracy`` at every validation (docs/control-codes.md)."""

import lightning as L

from lit_gpt2.callbacks.tensorboard import add_figure, tensorboard_writer
from lit_gpt2.distributed import run_where_weights_are_whole
from lit_gpt2.errors import UserInputError
from lit_gpt2.evaluation.genre import code_nll, genre_accuracy, genre_confusion
from lit_gpt2.modeling.control import control_code
from lit_gpt2.module import lit_module
from lit_gpt2.plots import confusion_chart


class GenreAccuracyCallback(L.Callback):
    """For each validation script, the genre whose code makes its first tokens most likely; the share
    of scripts where that is the script's own genre is logged as ``val/genre_accuracy`` (chance: 1 /
    genres), before training (step 0) and at every validation. Needs ``data.control=genre``. With
    TensorBoard, the image ``genre/confusion`` shows the same guesses by genre: which codes win.

    Args:
        max_tokens: Tokens of each validation script scored after each code (cost: scripts x genres x
            this many tokens per validation).
    """

    def __init__(self, max_tokens: int = 64) -> None:
        if max_tokens < 1:
            raise UserInputError(f"GenreAccuracyCallback max_tokens={max_tokens} must be at least 1")
        self.max_tokens = max_tokens
        self._codes: list[list[int]] = []
        self._scripts: list[list[int]] = []
        self._labels: list[int] = []

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        data = trainer.datamodule  # type: ignore[attr-defined]  # set by Lightning's data connector, undeclared
        corpus = getattr(data, "corpus", None)
        genres = corpus.codes if corpus is not None else None
        if corpus is None or not genres:
            raise UserInputError("GenreAccuracyCallback needs genre codes in the data: set data.control=genre")
        tokenizer, control_format = lit_module(pl_module).tokenizer, corpus.control_format
        # As in training, where a script (and its code) follows the end-of-text of the script before it.
        eos = [tokenizer.eos_token_id]
        self._codes = [eos + tokenizer(control_code(genre, control_format))["input_ids"] for genre in genres]
        scripts = corpus.validation_scripts()
        self._scripts = [tokenizer(text)["input_ids"][: self.max_tokens] for _, text in scripts]
        self._labels = [genres.index(genre) for genre, _ in scripts]

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.global_step == 0:  # the untrained baseline, beside the other step-0 points
            accuracy = self._accuracy(trainer, pl_module)
            for logger in trainer.loggers:
                logger.log_metrics({"val/genre_accuracy": accuracy}, step=0)

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking or trainer.state.fn != "fit":
            return
        pl_module.log("val/genre_accuracy", self._accuracy(trainer, pl_module))

    def _accuracy(self, trainer: L.Trainer, pl_module: L.LightningModule) -> float:
        """The accuracy, after drawing its confusion matrix in TensorBoard (rank 0)."""
        # Every rank computes it (the same value): a sharded model needs every rank in its forward passes.
        model = lit_module(pl_module).model
        nll = run_where_weights_are_whole(
            trainer.strategy, pl_module, lambda: code_nll(model, self._codes, self._scripts)
        )
        accuracy = genre_accuracy(nll, self._labels)
        writer = tensorboard_writer(trainer)
        if writer is not None:
            genres = trainer.datamodule.corpus.codes  # type: ignore[attr-defined]  # as in setup
            title = f"step {trainer.global_step}: genre accuracy {accuracy:.2f} (chance {1 / len(genres):.2f})"
            chart = confusion_chart(
                genre_confusion(nll, self._labels).cpu(),
                genres,
                title,
                xlabel="genre whose code makes the script likeliest",
                ylabel="validation script's genre",
            )
            add_figure(writer, "genre/confusion", chart, trainer.global_step)
        return accuracy
