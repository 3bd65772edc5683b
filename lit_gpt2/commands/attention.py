"""``lit-gpt2 attention``: where each head of a model looks on a text, as PNGs, JSON and a summary."""

import json
from pathlib import Path

import torch
from jsonargparse import ArgumentParser

from lit_gpt2.attention.probe import probe_attention
from lit_gpt2.attention.statistics import STATISTICS, attention_rollout, attention_statistics, classify_heads
from lit_gpt2.checkpoints import load_model_and_tokenizer
from lit_gpt2.plots import attention_grid, attention_heatmap

CAVEAT = (
    "Attention weights show where a head reads, not how much that reading matters to the output "
    "(Jain & Wallace 2019; Clark et al. 2019)."
)


def attention_command(argv: list[str]) -> None:
    parser = ArgumentParser(prog="lit-gpt2 attention", description="Attention heatmaps, statistics and head classes.")
    parser.add_argument("--model", type=str, required=True, help="A .ckpt, an exported folder, or a hub name.")
    parser.add_argument("--text", type=str, required=True, help="Text to probe; \\n for a line break.")
    parser.add_argument("--out", type=str, required=True, help="Folder for the PNGs and statistics.json.")
    parser.add_argument("--heads", type=list[tuple[int, int]] | None, default=None, help="(layer, head) maps to draw.")
    parser.add_argument("--prepend_eos", type=bool, default=True, help="Start with <|endoftext|> (stable sink).")
    parser.add_argument("--previous_threshold", type=float, default=0.5, help="Previous-token head above this.")
    parser.add_argument("--sink_threshold", type=float, default=0.5, help="Sink head above this first-token mass.")
    parser.add_argument("--broad_threshold", type=float, default=0.8, help="Broad head above this normalised entropy.")
    cfg = parser.parse_args(argv)
    model, tokenizer = load_model_and_tokenizer(cfg.model)
    probe = probe_attention(model, tokenizer, [cfg.text.replace("\\n", "\n")], cfg.prepend_eos)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)

    per_layer = [attention_statistics(a, probe.attention_mask) for a in probe.attentions]
    stacked = {name: torch.stack([layer[name] for layer in per_layer]) for name in STATISTICS}
    classes = classify_heads(stacked, cfg.previous_threshold, cfg.sink_threshold, cfg.broad_threshold)
    tokens = probe.tokens[0]
    attention_grid(probe.attentions).savefig(out / "grid.png", dpi=100)
    attention_heatmap(attention_rollout(probe.attentions)[0], tokens, "attention rollout").savefig(out / "rollout.png")
    heads = cfg.heads or sorted({*classes["previous_token"][:2], *classes["sink"][:1], (0, 0)})
    for layer, head in heads:
        figure = attention_heatmap(probe.attentions[layer][0, head], tokens, f"layer {layer}, head {head}")
        figure.savefig(out / f"layer{layer}_head{head}.png")
    statistics = {
        "text": probe.texts[0],
        "tokens": tokens,
        "per_head": {name: values.tolist() for name, values in stacked.items()},
        "head_classes": {name: [list(pair) for pair in pairs] for name, pairs in classes.items()},
        "caveat": CAVEAT,
    }
    (out / "statistics.json").write_text(json.dumps(statistics, indent=2), encoding="utf-8")
    print(summary(stacked, classes))
    print(f"\nWrote grid.png, rollout.png, {len(heads)} head map(s) and statistics.json to {out}")


def summary(stacked: dict[str, torch.Tensor], classes: dict[str, list[tuple[int, int]]]) -> str:
    """One line per layer (means over heads), then the head classes, then the caveat."""
    names = ("entropy", "normalised_entropy", "mean_distance", "first_token_mass", "previous_token_mass", "self_mass")
    lines = ["layer | " + " | ".join(names)]
    for layer in range(stacked["entropy"].shape[0]):
        lines.append(f"{layer:5d} | " + " | ".join(f"{torch.nanmean(stacked[n][layer]).item():.3f}" for n in names))
    for name, pairs in classes.items():
        listed = ", ".join(f"L{layer}H{head}" for layer, head in pairs) or "none"
        lines.append(f"{name.replace('_', '-')} heads: {listed}")
    lines.append(CAVEAT)
    return "\n".join(lines)
