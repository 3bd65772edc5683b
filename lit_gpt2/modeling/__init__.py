"""Model construction, size presets and tokenizer resolution: the one place for each."""

from lit_gpt2.modeling.build import build_model
from lit_gpt2.modeling.presets import SIZE_PRESETS
from lit_gpt2.modeling.tokenizer import load_tokenizer, tokenizer_source

__all__ = ["SIZE_PRESETS", "build_model", "load_tokenizer", "tokenizer_source"]
