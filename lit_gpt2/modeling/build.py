"""Model construction from exactly one of: pretrained weights, a size preset, or explicit config fields."""

import logging
from pathlib import Path
from typing import Any

from torch import nn
from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedModel

from lit_gpt2.errors import UserInputError
from lit_gpt2.modeling.hub import hub_reachable
from lit_gpt2.modeling.presets import SIZE_PRESETS, preset_config

log = logging.getLogger(__name__)


def build_model(
    pretrained: str | None = None,
    preset: str | None = None,
    config: dict[str, Any] | None = None,
    vocab_size: int | None = None,
    pad_token_id: int | None = None,
    attn_implementation: str = "sdpa",
    eos_token_id: int | None = None,
) -> GPT2LMHeadModel:
    """Build the causal LM; random-init sources take ``vocab_size`` and ``eos_token_id`` from the
    tokenizer (GPT-2's config says 50256, which a trained small vocabulary does not have).

    ``pad_token_id`` goes into the generation config so that ``generate`` never warns about it.
    """
    given = [n for n, v in (("pretrained", pretrained), ("preset", preset), ("config", config)) if v]
    if len(given) != 1:
        raise UserInputError(
            f"give exactly one of model.pretrained, model.preset, model.config (got {given or 'none'}); "
            "e.g. --model.preset=gpt2 for the GPT-2 small architecture with random weights"
        )
    if pretrained:
        # from_pretrained returns eval mode, which Lightning 2.6 keeps: a fine-tune would train with
        # dropout off. Training mode, as a model built from a config starts.
        model = _from_pretrained(pretrained, attn_implementation).train()
    else:
        gpt2_config = _random_init_config(preset, config)
        if vocab_size is not None and "vocab_size" not in (config or {}):
            gpt2_config.vocab_size = vocab_size
        if eos_token_id is not None:
            gpt2_config.bos_token_id = gpt2_config.eos_token_id = eos_token_id
        model = GPT2LMHeadModel(gpt2_config)
        model.set_attn_implementation(attn_implementation)
    if pretrained and vocab_size is not None and model.config.vocab_size < vocab_size:
        # Tokens added to the pretrained tokenizer (control codes): new embedding rows, the head still tied.
        model.resize_token_embeddings(vocab_size)
    if vocab_size is not None and model.config.vocab_size < vocab_size:
        raise UserInputError(
            f"the tokenizer has {vocab_size} tokens but the model only {model.config.vocab_size}: "
            "use the model's own tokenizer or raise model.config.vocab_size"
        )
    if pad_token_id is not None:
        model.generation_config.pad_token_id = pad_token_id
    # transformers cannot infer the loss from the class name GPT2LMHeadModel and warns on every run.
    model.loss_type = "ForCausalLM"
    return model


def _from_pretrained(name: str, attn_implementation: str) -> GPT2LMHeadModel:
    if not Path(name).is_dir():
        try:
            return GPT2LMHeadModel.from_pretrained(name, attn_implementation=attn_implementation, local_files_only=True)
        except OSError:
            if not hub_reachable():
                raise UserInputError(
                    f"cannot load weights {name!r}: not a local directory, not in the Hugging Face cache, and "
                    "the hub is unreachable; give a local model directory, or use model.preset="
                    f"{name if name in SIZE_PRESETS else 'gpt2'} to train that architecture from scratch"
                ) from None
    return GPT2LMHeadModel.from_pretrained(name, attn_implementation=attn_implementation)


def _random_init_config(preset: str | None, fields: dict[str, Any] | None) -> GPT2Config:
    if preset:
        if preset not in SIZE_PRESETS:
            raise UserInputError(f"unknown model.preset {preset!r}: choose one of {', '.join(SIZE_PRESETS)}")
        return preset_config(preset)
    try:
        config = GPT2Config(**(fields or {}))  # None never comes: build_model asks for one of three
    except (TypeError, ValueError) as err:
        raise UserInputError(f"model.config is not a valid GPT2Config ({err}); see GPT2Config's fields") from None
    check_shape(config)
    return config


def check_shape(config: GPT2Config) -> None:
    """Refuse a shape no model can have, naming the field, before anything is built."""
    for field in ("n_layer", "n_head", "n_embd", "n_positions", "vocab_size"):
        value = getattr(config, field)
        if not isinstance(value, int) or value < 1:
            raise UserInputError(f"model.config {field}={value!r} must be a whole number of at least 1 (e.g. 2)")
    if config.n_embd % config.n_head:
        divisors = [d for d in range(1, config.n_embd + 1) if config.n_embd % d == 0 and d <= 64]
        raise UserInputError(
            f"model.config n_embd={config.n_embd} does not split into n_head={config.n_head} heads of equal width: "
            f"choose n_head among the divisors of n_embd (e.g. {', '.join(map(str, divisors[-4:]))})"
        )


def enable_gradient_checkpointing(model: GPT2LMHeadModel) -> None:
    """Recompute each block's activations in the backward pass instead of keeping them (transformers' own
    ``gradient_checkpointing_enable``): activation memory falls from every block's to about one block's,
    for roughly one more forward pass of compute (docs/memory.md).

    Non-reentrant checkpointing: it needs no input that requires grad (LoRA's frozen embeddings), traces
    under ``torch.compile``, and keeps DDP's one gradient hook per parameter. The training forward keeps
    no key/value cache (``use_cache`` off, as transformers would force with a warning at every step);
    generation still caches, by its own ``generation_config``.
    """
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.config.use_cache = False


def attention_implementation(model: PreTrainedModel) -> str | None:
    """The attention kernel the model runs (``sdpa``, ``eager``, ...).

    transformers 5 sets it with the public ``set_attn_implementation`` but has no public getter: its own
    documentation reads ``config._attn_implementation``, as this does, in this one place.
    """
    return model.config._attn_implementation


def parameter_count(module: nn.Module) -> int:
    """Parameters counted once each, so a tied LM head adds nothing to the embedding it shares."""
    return sum(p.numel() for p in {id(p): p for p in module.parameters()}.values())
