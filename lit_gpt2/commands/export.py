"""``lit-gpt2 export``: a Lightning checkpoint to a Hugging Face model directory."""

from pathlib import Path

from jsonargparse import ArgumentParser

from lit_gpt2.checkpoints import load_module


def export_command(argv: list[str]) -> None:
    parser = ArgumentParser(prog="lit-gpt2 export", description="Export a checkpoint in Hugging Face format.")
    parser.add_argument("--ckpt_path", type=str, required=True, help="Lightning checkpoint (.ckpt) to export.")
    parser.add_argument("--out", type=str, required=True, help="Output directory (created if missing).")
    cfg = parser.parse_args(argv)
    target = load_module(cfg.ckpt_path).export(Path(cfg.out))
    print(f"Exported {cfg.ckpt_path} to {target}")
    print(f"Load it with: transformers.pipeline('text-generation', model={str(target)!r})")
