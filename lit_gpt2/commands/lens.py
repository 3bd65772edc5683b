"""``lit-gpt2 lens``: what a model would predict after each layer on a text, and how surprised it is by
each token, as pictures and JSON."""

import json
from pathlib import Path

from lit_gpt2.checkpoints import load_model_and_tokenizer
from lit_gpt2.errors import UserInputError
from lit_gpt2.inspect.lens import lens_pass
from lit_gpt2.modeling.tokenizer import token_texts
from lit_gpt2.plots import logit_lens_chart, surprisal_chart


def lens_command(model: str, text: str, out: str, max_tokens: int = 32, prepend_eos: bool = True) -> None:
    """The logit lens and per-token surprisal of a text: lens.png, surprisal.png and lens.json
    (docs/logit-lens-and-surprisal.md).

    Args:
        model: The model: a .ckpt, an exported folder, or a hub name.
        text: Text to read; \\n stands for a line break.
        out: Folder for the pictures and lens.json (created if missing).
        max_tokens: Positions drawn in lens.png (the JSON has them all, up to the model's context).
        prepend_eos: Start with <|endoftext|>, as the training callbacks do, so that the first real
            token has a prediction too.
    """
    if max_tokens < 2:
        raise UserInputError(f"--max_tokens={max_tokens} must be at least 2")
    loaded, tokenizer = load_model_and_tokenizer(model)
    ids = ([tokenizer.eos_token_id] if prepend_eos else []) + tokenizer(text.replace("\\n", "\n"))["input_ids"]
    if len(ids) < 2:
        raise UserInputError("--text needs at least two tokens (one to read, one to predict)")
    result = lens_pass(loaded, ids)
    lens, read_ids = result.lens, result.input_ids.tolist()
    tokens = token_texts(tokenizer, read_ids)
    top_tokens = [token_texts(tokenizer, row) for row in lens.top_ids.tolist()]
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    shown = slice(0, max_tokens)
    chart = logit_lens_chart(
        [row[shown] for row in top_tokens], lens.top_probs[:, shown], lens.row_names, tokens[shown]
    )
    chart.savefig(folder / "lens.png")
    surprisal_chart(tokens[1:], result.surprisal_bits.tolist()).savefig(folder / "surprisal.png")
    report = {
        "tokens": tokens,
        "layers": lens.row_names,
        "top_tokens": dict(zip(lens.row_names, top_tokens)),
        "top_probabilities": dict(zip(lens.row_names, lens.top_probs.tolist())),
        "loss_nats": dict(zip(lens.row_names, lens.losses.tolist())),
        "surprisal_bits": result.surprisal_bits.tolist(),  # of tokens[1:], each given the ones before it
    }
    (folder / "lens.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    print("layer  | loss (nats) against the true next tokens")
    for name, loss in zip(lens.row_names, lens.losses.tolist()):
        print(f"{name:6s} | {loss:.3f}")
    mean = result.surprisal_bits.mean().item()
    print(f"Mean surprisal {mean:.2f} bits per token over {len(tokens) - 1} tokens.")
    print(f"Wrote lens.png, surprisal.png and lens.json to {folder}")
