"""Export the best model in Hugging Face format when ``fit`` ends."""

from pathlib import Path

import lightning as L
from lightning.pytorch.utilities import rank_zero_info

from lit_gpt2.checkpoints import CARD_KEY, load_module, recorded_card_facts
from lit_gpt2.model_card import card_facts
from lit_gpt2.module import lit_module


class HFExportCallback(L.Callback):
    """Save the best checkpoint's model and tokenizer with ``save_pretrained`` (safetensors), and its
    model card (``README.md``: data, settings, validation metrics, the last samples; ``lit_gpt2.model_card``).

    The result loads offline with ``transformers.pipeline("text-generation", model=DIR)``. Every
    checkpoint records the card's facts as they stand when it is saved, so ``lit-gpt2 export`` of any
    checkpoint writes that checkpoint's card.

    Args:
        dirpath: Output folder; default ``<run dir>/export``.
        enabled: Set false to skip the export.
    """

    def __init__(self, dirpath: str | None = None, enabled: bool = True) -> None:
        self.dirpath = dirpath
        self.enabled = enabled

    def on_save_checkpoint(self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict) -> None:
        checkpoint[CARD_KEY] = card_facts(trainer, pl_module)

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self.enabled or trainer.interrupted:
            return
        # trainer.log_dir is a collective (a broadcast from rank 0): every rank must ask for it.
        target = Path(self.dirpath or Path(trainer.log_dir or trainer.default_root_dir) / "export")
        if not trainer.is_global_zero:
            return
        best = getattr(trainer.checkpoint_callback, "best_model_path", "")  # ModelCheckpoint's; None: ""
        # A fresh copy from the best checkpoint leaves the in-memory (last) weights untouched.
        module = load_module(best) if best else lit_module(pl_module)
        facts = recorded_card_facts(best) if best else None
        module.export(target, facts or card_facts(trainer, pl_module))
        rank_zero_info(f"Exported {'best' if best else 'final'} model to {target}")
