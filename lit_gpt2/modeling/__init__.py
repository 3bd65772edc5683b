"""What builds a model, the one place for each: size presets, model construction, tokenizer resolution
(hub, packaged GPT-2 BPE, fitted BPE), genre control codes, the lean training forward and its chunked
loss, LoRA, and the side-pass context that evaluation, decoding and inspection run the model under."""

from lit_gpt2.modeling.build import build_model
from lit_gpt2.modeling.presets import SIZE_PRESETS
from lit_gpt2.modeling.tokenizer import load_tokenizer, tokenizer_source

__all__ = ["SIZE_PRESETS", "build_model", "load_tokenizer", "tokenizer_source"]
