"""Callbacks, one per file, each importable from YAML by ``class_path``."""

from lit_gpt2.callbacks.export import HFExportCallback

__all__ = ["HFExportCallback"]
