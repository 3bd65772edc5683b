"""``lit-gpt2 export``: a Lightning checkpoint to a Hugging Face model directory."""

from pathlib import Path

from lit_gpt2.checkpoints import load_module, recorded_card_facts


def export_command(ckpt_path: str, out: str) -> None:
    """Export a checkpoint as a Hugging Face model folder that ``transformers.pipeline`` loads, with its
    model card (README.md: data, settings, validation metrics and samples as the checkpoint recorded them).

    Args:
        ckpt_path: The Lightning checkpoint (.ckpt) to export.
        out: Output folder (created if missing).
    """
    target = load_module(ckpt_path).export(Path(out), recorded_card_facts(ckpt_path))
    print(f"Exported {ckpt_path} to {target}")
    print(f"Load it with: transformers.pipeline('text-generation', model={str(target)!r})")
