"""Decoding: named strategy presets, batched generation, the strategy x genre sample grid, and generation
metrics (pure functions)."""

from lit_gpt2.decoding.strategies import DEFAULT_CALLBACK_STRATEGIES, PRESETS, DecodingStrategy, resolve_strategies

__all__ = ["DEFAULT_CALLBACK_STRATEGIES", "PRESETS", "DecodingStrategy", "resolve_strategies"]
