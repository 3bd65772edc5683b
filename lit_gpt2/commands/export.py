"""``lit-gpt2 export``: a Lightning checkpoint to a Hugging Face model directory."""

from pathlib import Path

from lit_gpt2.checkpoints import load_module, recorded_card_facts, verify_checkpoint
from lit_gpt2.errors import UserInputError


def export_command(ckpt_path: str, out: str, overwrite: bool = False) -> None:
    """Export a checkpoint as a Hugging Face model folder that ``transformers.pipeline`` loads, with its
    model card (README.md: data, settings, validation metrics and samples as the checkpoint recorded them).

    Args:
        ckpt_path: The Lightning checkpoint (.ckpt) to export.
        out: Output folder (created if missing; refused if it holds files, unless ``overwrite``).
        overwrite: Replace the files of a non-empty ``out`` folder.
    """
    target = Path(out)
    if target.exists() and not target.is_dir():
        raise UserInputError(f"--out={out} is a file, not a folder: give a folder to export into")
    if target.is_dir() and any(target.iterdir()) and not overwrite:
        raise UserInputError(f"--out={out} is not empty: give a new folder, or add --overwrite to replace its files")
    verify_checkpoint(ckpt_path)  # before anything is written
    load_module(ckpt_path).export(target, recorded_card_facts(ckpt_path))
    print(f"Exported {ckpt_path} to {target}")
    print(f"Load it with: transformers.pipeline('text-generation', model={str(target)!r})")
