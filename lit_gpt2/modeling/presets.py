"""Official GPT-2 family hyper-parameters, for building the architectures without downloading weights."""

from transformers import GPT2Config

# name -> (n_layer, n_head, n_embd); all share vocab 50,257 and a 1,024-token context.
_SHAPES: dict[str, tuple[int, int, int]] = {
    "distilgpt2": (6, 12, 768),
    "gpt2": (12, 12, 768),
    "gpt2-medium": (24, 16, 1024),
    "gpt2-large": (36, 20, 1280),
    "gpt2-xl": (48, 25, 1600),
}

SIZE_PRESETS: tuple[str, ...] = tuple(_SHAPES)


def preset_config(name: str) -> GPT2Config:
    """The ``GPT2Config`` of a named GPT-2 size, as the hub checkpoints define it."""
    n_layer, n_head, n_embd = _SHAPES[name]
    return GPT2Config(n_layer=n_layer, n_head=n_head, n_embd=n_embd, n_positions=1024, vocab_size=50257)
