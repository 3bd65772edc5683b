"""Callbacks, one per file, each importable from YAML by ``class_path``."""

from lit_gpt2.callbacks.architecture_summary import ArchitectureSummaryCallback
from lit_gpt2.callbacks.attention_heatmap import AttentionHeatmapCallback
from lit_gpt2.callbacks.export import HFExportCallback
from lit_gpt2.callbacks.genre_accuracy import GenreAccuracyCallback
from lit_gpt2.callbacks.logit_lens import LogitLensCallback
from lit_gpt2.callbacks.requeue import DeferredRequeueSignal
from lit_gpt2.callbacks.sample_generation import SampleGenerationCallback
from lit_gpt2.callbacks.throughput import TokenThroughputMonitor

__all__ = [
    "ArchitectureSummaryCallback",
    "AttentionHeatmapCallback",
    "DeferredRequeueSignal",
    "GenreAccuracyCallback",
    "HFExportCallback",
    "LogitLensCallback",
    "SampleGenerationCallback",
    "TokenThroughputMonitor",
]
