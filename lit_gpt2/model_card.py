"""The model card (``README.md``) beside every export: what the model is, what it was trained on, how
well it did, what it writes, and what it is not for; in the form ``huggingface_hub.ModelCard`` loads.

The facts about a run are plain values gathered once (``card_facts``) and stored in each checkpoint, so
``lit-gpt2 export`` of any checkpoint writes the card of that checkpoint, as the end of ``fit`` does.
"""

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import lightning as L
import yaml

if TYPE_CHECKING:
    from lit_gpt2.module import GPT2LitModule

SAMPLES_PER_STRATEGY = 2
_METRICS = {
    "val/loss": "validation loss (nats per token)",
    "val/ppl": "validation perplexity",
    "val/bpb": "validation bits per byte",
}


def _epochs_done(trainer: L.Trainer) -> float:
    """Epochs trained so far, fractions included: a checkpoint saved at an epoch's end has finished
    ``current_epoch + 1`` epochs, one saved mid-epoch a fraction of the current one."""
    steps_per_epoch = trainer.num_training_batches / max(1, trainer.accumulate_grad_batches)
    if not math.isfinite(steps_per_epoch) or steps_per_epoch < 1:  # a stream: epochs have no fixed length
        return float(trainer.current_epoch)
    return round(trainer.global_step / int(steps_per_epoch), 2)


def card_facts(trainer: L.Trainer, module: L.LightningModule) -> dict[str, Any]:
    """The run's data, training settings, validation metrics and last samples, as plain values (a
    checkpoint stores them; ``torch.load(weights_only=True)`` reads them back)."""
    facts: dict[str, Any] = {
        "training": {
            "epochs": _epochs_done(trainer),
            "max_epochs": trainer.max_epochs,
            "steps": trainer.global_step,
            "precision": str(trainer.precision),
            "accumulate_grad_batches": trainer.accumulate_grad_batches,
            "devices": trainer.world_size,
        },
        "metrics": {k: float(v) for k, v in trainer.callback_metrics.items() if k in _METRICS},
    }
    data = getattr(trainer, "datamodule", None)
    if data is not None and hasattr(data, "hparams"):
        hp = data.hparams
        facts["data"] = {
            "source": hp.get("source") or "the embedded screenplay corpus (lit-gpt2's 326 original scenes)",
            "split": getattr(data, "split_mode", None),
            "normalized": data.normalising() if hasattr(data, "normalising") else hp.get("normalize"),
            "block_size": hp.get("block_size"),
            "batch_size": hp.get("batch_size"),
            "val_fraction": hp.get("val_fraction"),
            "test_fraction": hp.get("test_fraction"),
        }
        splits = getattr(data, "splits", None) or {}
        facts["data"]["tokens"] = {name: len(blocks) * hp.get("block_size", 0) for name, blocks in splits.items()}
    samples = {}
    for callback in trainer.callbacks:  # type: ignore[attr-defined]  # set by Lightning, undeclared
        for strategy, pairs in (getattr(callback, "last_samples", None) or {}).items():
            samples[strategy] = [list(pair) for pair in pairs[:SAMPLES_PER_STRATEGY]]
    if samples:
        facts["samples"] = samples
    return facts


def model_card(module: "GPT2LitModule", facts: dict[str, Any] | None = None) -> str:
    """The card's text: YAML metadata, then the model, data, training, evaluation, samples and limits."""
    facts = facts or {}
    hp = module.hparams
    config = module.model.config
    n_params = sum(p.numel() for p in module.model.parameters())
    shape = f"{config.n_layer} layers, {config.n_head} heads, {config.n_embd} wide, {config.n_positions}-token context"
    metadata: dict[str, Any] = {
        "library_name": "transformers",
        "pipeline_tag": "text-generation",
        "tags": ["gpt2", "lit-gpt2", "text-generation", "causal-lm"],
        "language": ["en"],
    }
    if hp.get("pretrained") and not Path(str(hp["pretrained"])).exists():
        metadata["base_model"] = hp["pretrained"]  # a hub name (a local folder means nothing elsewhere)
    origin = f"fine-tuned from `{hp['pretrained']}`" if hp.get("pretrained") else "trained from scratch"
    lines = [
        "---",
        yaml.safe_dump(metadata, sort_keys=False).strip(),
        "---",
        "",
        "# GPT-2 trained with lit-gpt2",
        "",
        f"A GPT-2 causal language model ({shape}; {n_params:,} parameters), {origin}, with "
        "lit-gpt2 (PyTorch Lightning + Hugging Face transformers).",
        "",
        "## Model",
        "",
        f"- Weights: {origin}" + (f" (preset `{hp['preset']}`)" if hp.get("preset") else "") + f"; {shape}.",
        f"- Tokenizer: `{hp.get('tokenizer')}`, {len(module.tokenizer):,} tokens (saved beside the weights).",
    ]
    if hp.get("lora"):
        lines.append(
            f"- LoRA adapters (rank {hp['lora']['rank']}) merged into the weights; the adapter alone is in `adapter/`."
        )
    codes = getattr(config, "control_codes", None)
    if codes:
        lines.append(f"- Genre control codes ({codes['format']}): {', '.join(codes['genres'])}.")
    lines += ["", "## Data", ""]
    data = facts.get("data")
    if data:
        split = {
            "script": "split by whole script",
            "position": "one text split by position (validation the end of the text, test just before it)",
            "stream": "streamed (validation the first documents)",
        }.get(data.get("split"), "split as the data module chose")
        lines.append(f"- Source: {data['source']}; {split}.")
        lines.append(f"- Screenplay normalisation: {'on' if data.get('normalized') else 'off (text kept as written)'}.")
        tokens = data.get("tokens") or {}
        if tokens:
            lines.append("- Tokens per split: " + ", ".join(f"{name} {n:,}" for name, n in tokens.items()) + ".")
    else:
        lines.append("- Not recorded (exported outside a training run).")
    lines += [
        "",
        "## Training",
        "",
        f"- AdamW, peak learning rate {hp['learning_rate']:g}, {hp['warmup_steps']} warm-up steps then cosine decay to "
        f"{hp['min_lr_ratio']:g}x, weight decay {hp['weight_decay']:g}.",
    ]
    training = facts.get("training")
    if training:
        lines.append(
            f"- {training['steps']:,} optimizer steps, {training['epochs']:g} epoch(s) done of "
            f"{training['max_epochs']}; "
            f"precision {training['precision']}, {training['devices']} device(s), gradient accumulation "
            f"{training['accumulate_grad_batches']}."
        )
    if data:
        lines.append(f"- Batches of {data.get('batch_size')} blocks of {data.get('block_size')} tokens.")
    if hp.get("gradient_checkpointing"):
        lines.append("- Gradient checkpointing on.")
    lines += ["", "## Evaluation", ""]
    metrics = facts.get("metrics") or {}
    if metrics:
        lines += ["| metric | value |", "|---|---|"]
        lines += [f"| {_METRICS[name]} | {value:.4g} |" for name, value in metrics.items() if math.isfinite(value)]
        lines.append("")
        lines.append("On the held-out validation split of the data above (bits per byte: docs/bits-per-byte.md).")
    else:
        lines.append("Not recorded: no validation ran before this checkpoint.")
    samples = facts.get("samples")
    if samples:
        lines += ["", "## Samples", "", "From the last sample round before this checkpoint, per decoding strategy.", ""]
        for strategy, pairs in samples.items():
            lines += [f"### {strategy}", ""]
            for prompt, text in pairs:
                lines += ["```text", (prompt + text).replace("```", "'''").rstrip(), "```", ""]
    lines += [
        "",
        "## How to use",
        "",
        "```python",
        "from transformers import pipeline",
        "",
        'generate = pipeline("text-generation", model="PATH_OR_HUB_NAME")',
        'out = generate("INT. DINER - NIGHT\\n\\n", max_new_tokens=64, do_sample=True, top_p=0.9)',
        'print(out[0]["generated_text"])',
        "```",
        "",
        "## What it is not for",
        "",
        "- A small model trained on the text above: it imitates that text's style and layout, and makes things up.",
        "  Not a source of facts, advice, or anything a decision about a person rests on.",
        "- It may repeat passages of its training text; do not train it on text you may not redistribute.",
        "- It has not been evaluated for bias, toxicity or safety; filter what it writes before showing it to others.",
        "",
    ]
    return "\n".join(lines)


def write_model_card(directory: str | Path, module: "GPT2LitModule", facts: dict[str, Any] | None = None) -> Path:
    """Write ``README.md`` (the card) into an export folder."""
    path = Path(directory) / "README.md"
    path.write_text(model_card(module, facts), encoding="utf-8")
    return path
