"""Decoding: named strategy presets (data, validated), batched seeded generation (it runs the model), the
strategy x genre sample grid built in one place, the next-token distribution and where top-k / top-p cut
it, classifier scoring of samples, generation metrics and the structure score (pure functions on token
ids and text), and a plain-language reading of a comparison."""

from lit_gpt2.decoding.strategies import DEFAULT_CALLBACK_STRATEGIES, PRESETS, DecodingStrategy, resolve_strategies

__all__ = ["DEFAULT_CALLBACK_STRATEGIES", "PRESETS", "DecodingStrategy", "resolve_strategies"]
