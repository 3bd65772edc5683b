"""Numbers about a model on data: strided perplexity, bits per byte, genre accuracy from control codes,
and FLOP counts per token. The definitions, with worked examples, are in ``docs/``."""
