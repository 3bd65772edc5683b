"""``lit-gpt2 attention``: where each head of a model looks on a text, as PNGs, JSON and a summary."""

import json
from pathlib import Path

import torch

from lit_gpt2.checkpoints import load_model_and_tokenizer
from lit_gpt2.errors import UserInputError
from lit_gpt2.inspect.probe import probe_attention, probe_head_scores
from lit_gpt2.inspect.statistics import STATISTICS, attention_rollout, attention_statistics, classify_heads
from lit_gpt2.plots import attention_grid, attention_heatmap, head_score_grid

CAVEAT = (
    "Attention weights show where a head reads, not how much that reading matters to the output "
    "(Jain & Wallace 2019; Clark et al. 2019)."
)


def attention_command(
    model: str,
    text: str,
    out: str,
    heads: list[tuple[int, int]] | None = None,
    prepend_eos: bool = True,
    previous_threshold: float = 0.5,
    sink_threshold: float = 0.5,
    broad_threshold: float = 0.8,
    head_score_length: int = 20,
) -> None:
    """Where each head of a model looks on a text: heatmaps (PNG), statistics.json and a summary.

    Args:
        model: The model: a .ckpt, an exported folder, or a hub name.
        text: Text to probe; \\n stands for a line break.
        out: Folder for the PNGs and statistics.json (created if missing).
        heads: (layer, head) pairs to draw one map each, space-separated: [0,1] [2,3]. Default: the
            clearest previous-token and sink heads, and layer 0 head 0.
        prepend_eos: Start the text with <|endoftext|>, a stable first token for sink heads to use.
        previous_threshold: A head is a previous-token head above this mean previous-token mass.
        sink_threshold: A head is a sink head above this mean first-token mass.
        broad_threshold: A head is a broad head above this mean normalised entropy.
        head_score_length: Random tokens in each half of the head-score probe (docs/head-scores.md).
    """
    if not text.strip():
        raise UserInputError("--text is empty: give some text for the heads to read (e.g. --text 'INT. DINER - NIGHT')")
    loaded, tokenizer = load_model_and_tokenizer(model)
    probe = probe_attention(loaded, tokenizer, [text.replace("\\n", "\n")], prepend_eos)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)

    per_layer = [attention_statistics(a, probe.attention_mask) for a in probe.attentions]
    stacked = {name: torch.stack([layer[name] for layer in per_layer]) for name in STATISTICS}
    classes = classify_heads(stacked, previous_threshold, sink_threshold, broad_threshold)
    tokens = probe.tokens[0]
    attention_grid(probe.attentions).savefig(folder / "grid.png", dpi=100)
    attention_heatmap(attention_rollout(probe.attentions)[0], tokens, "attention rollout").savefig(
        folder / "rollout.png"
    )
    scores = probe_head_scores(loaded, tokenizer, head_score_length)
    for kind, values in scores.items():
        head_score_grid(values, kind).savefig(folder / f"heads_{kind}.png")
    heads = heads or sorted({*classes["previous_token"][:2], *classes["sink"][:1], (0, 0)})
    for layer, head in heads:
        figure = attention_heatmap(probe.attentions[layer][0, head], tokens, f"layer {layer}, head {head}")
        figure.savefig(folder / f"layer{layer}_head{head}.png")
    statistics = {
        "text": probe.texts[0],
        "tokens": tokens,
        "per_head": {name: values.tolist() for name, values in stacked.items()},
        "head_classes": {name: [list(pair) for pair in pairs] for name, pairs in classes.items()},
        "head_scores": {kind: values.tolist() for kind, values in scores.items()},
        "caveat": CAVEAT,
    }
    (folder / "statistics.json").write_text(json.dumps(statistics, indent=2), encoding="utf-8")
    print(summary(stacked, classes))
    print(head_score_summary(scores))
    print(f"\nWrote grid.png, rollout.png, {len(heads)} head map(s), heads_<kind>.png and statistics.json to {folder}")


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


def head_score_summary(scores: dict[str, torch.Tensor]) -> str:
    """The best head of each kind, and its score."""
    lines = []
    for kind, values in scores.items():
        layer, head = divmod(int(values.argmax()), values.shape[1])
        lines.append(f"best {kind.replace('_', '-')} head: L{layer}H{head}, score {values.max().item():.2f}")
    return "\n".join(lines)
