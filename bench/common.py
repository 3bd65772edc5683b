"""What every runner shares, so the three do the same work: data, order, model, optimizer, schedule."""

import argparse
import json
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from lit_gpt2.data.corpus import Corpus
from lit_gpt2.data.datamodule import MovieScriptsDataModule
from lit_gpt2.module import GPT2LitModule

# Dropout off: each framework draws dropout masks differently, and the runs must end at the same loss.
NO_DROPOUT = {"resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0}
SIZES = {
    "tiny": {"n_layer": 2, "n_head": 2, "n_embd": 64, "block_size": 64},
    "nanogpt-cpu": {"n_layer": 4, "n_head": 4, "n_embd": 128, "block_size": 64},  # nanoGPT README's CPU recipe
    "small": {"n_layer": 4, "n_head": 4, "n_embd": 128, "block_size": 128},  # the quickstart model
    "gpt2": {"n_layer": 12, "n_head": 12, "n_embd": 768, "block_size": 1024},  # for GPUs
}


@dataclass
class BenchConfig:
    size: str = "tiny"
    steps: int = 40
    warmup: int = 5
    batch_size: int = 8
    precision: str = "32-true"  # or bf16-mixed
    device: str = "cpu"
    seed: int = 1234
    learning_rate: float = 1e-3
    vocab: int | None = None  # a BPE of this many tokens fitted to the training scenes; None: GPT-2's 50,257
    source: str | None = None  # data.source; None: the embedded corpus (too small for GPT-2 124M on a GPU)
    cache_dir: str | None = None
    module_options: dict = field(default_factory=dict)  # GPT2LitModule switches, for the "ours" runner

    @property
    def block_size(self) -> int:
        return SIZES[self.size]["block_size"]

    def model_config(self) -> dict:
        shape = {k: v for k, v in SIZES[self.size].items() if k != "block_size"}
        return {**shape, "n_positions": max(self.block_size, 128), **NO_DROPOUT}


@dataclass
class RunResult:
    runner: str
    tokens_per_second: float
    seconds: float
    losses: list[float] = field(default_factory=list)
    peak_rss_mib: float = 0.0
    # Per timed step, from getrusage: page faults served without I/O, and kernel CPU time (all threads).
    minor_faults_per_step: float = 0.0
    system_ms_per_step: float = 0.0

    @property
    def final_loss(self) -> float:
        tail = self.losses[-5:]
        return sum(tail) / len(tail)

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "final_loss": self.final_loss})


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every benchmark of training speed shares."""
    parser.add_argument("--size", choices=list(SIZES), default="tiny")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5, help="steps before the clock starts (compile happens here)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--precision", default="32-true", choices=["32-true", "bf16-mixed"])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--vocab", type=int, default=None, help="fit a BPE of this many tokens (0: GPT-2's 50,257)")
    parser.add_argument("--source", default=None, help="data.source (default: the embedded corpus)")
    parser.add_argument("--out", default="bench/results")


def config_from_args(args: argparse.Namespace) -> BenchConfig:
    return BenchConfig(
        size=args.size,
        steps=args.steps,
        warmup=args.warmup,
        batch_size=args.batch_size,
        precision=args.precision,
        device=args.device,
        vocab=args.vocab,
        source=args.source,
    )


def run_line(report: dict) -> str:
    """What every Trainer run of a report shared: model, batch, steps, precision and device."""
    cfg = report["config"]
    return (
        f"Model {cfg['size']} {report['model']}, batch {cfg['batch_size']}, {cfg['steps']} steps "
        f"({cfg['warmup']} warm-up), {cfg['precision']} on {cfg['device']}"
    )


def write_report(out: str, stem: str, report: dict, markdown: str) -> None:
    """``<out>/<stem>.json`` and ``.md``, and the markdown on stdout."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{stem}.json").write_text(json.dumps(report, indent=2))
    (folder / f"{stem}.md").write_text(markdown)
    print(markdown)


def build(cfg: BenchConfig) -> tuple[GPT2LitModule, MovieScriptsDataModule]:
    shared = {"source": cfg.source, "seed": cfg.seed, "cache_dir": cfg.cache_dir}
    # As the CLI does with data.train_tokenizer: the fitted BPE goes to the model and the data alike.
    tokenizer = str(Corpus(train_tokenizer=cfg.vocab, **shared).fitted_tokenizer()) if cfg.vocab else None
    data = MovieScriptsDataModule(
        block_size=cfg.block_size, batch_size=cfg.batch_size, tokenizer=tokenizer or "gpt2", **shared
    )
    torch.manual_seed(cfg.seed)  # identical initial weights for every runner
    module = GPT2LitModule(
        config=cfg.model_config(),
        tokenizer=tokenizer,
        learning_rate=cfg.learning_rate,
        warmup_steps=cfg.warmup,
        min_lr_ratio=0.1,
        **cfg.module_options,
    )
    data.tokenizer = module.tokenizer  # one object for both, as the CLI hands it over
    data.setup("fit")
    return module, data


def optimizer_and_schedule(module: GPT2LitModule, cfg: BenchConfig):
    # The module's own AdamW and schedule, fused on a GPU as GPT2LitModule's default is.
    return module.optimizer_and_scheduler(cfg.steps, fused=cfg.device == "cuda")


def training_flops_per_token(cfg: BenchConfig) -> int:
    from transformers import GPT2Config

    from lit_gpt2.evaluation.flops import forward_flops_per_token
    from lit_gpt2.inspect.anatomy import meta_gpt2

    model = meta_gpt2(GPT2Config(**cfg.model_config(), vocab_size=cfg.vocab or 50257))
    return 3 * forward_flops_per_token(model, cfg.block_size)


def same_final_loss(cfg: BenchConfig, losses: list[float]) -> bool:
    """Whether runners' final losses agree: to 0.1% in fp32; bf16 rounds differently in each runner's
    loss (all within 1% of each other over the run)."""
    return max(losses) - min(losses) <= (1e-3 if cfg.precision == "32-true" else 1e-2) * min(losses)


def summarise_runs(cfg: BenchConfig, results: list[dict]) -> dict:
    """One runner's or variant's repeats: median tokens/s (with each run's), its MFU, peak RSS and loss."""
    tokens_per_second = statistics.median(r["tokens_per_second"] for r in results)
    return {
        "tokens_per_second": tokens_per_second,
        "runs": [r["tokens_per_second"] for r in results],
        "mfu": model_flops_utilization(cfg, tokens_per_second),
        "peak_rss_mib": max(r["peak_rss_mib"] for r in results),
        "final_loss": results[0]["final_loss"],
        "minor_faults_per_step": statistics.median(r["minor_faults_per_step"] for r in results),
        "system_ms_per_step": statistics.median(r["system_ms_per_step"] for r in results),
    }


def model_flops_utilization(cfg: BenchConfig, tokens_per_second: float) -> float | None:
    """Achieved training FLOP/s over the device's peak (Lightning's table), None where it is unknown."""
    from lightning.fabric.utilities.throughput import get_available_flops

    if cfg.device != "cuda":
        return None
    dtype = torch.bfloat16 if cfg.precision == "bf16-mixed" else torch.float32
    peak = get_available_flops(torch.device("cuda"), dtype)
    return tokens_per_second * training_flops_per_token(cfg) / peak if peak else None


def timed_steps(step: Callable[[], object], steps: int, device: str, warmup: int = 1) -> tuple[float, float]:
    """Seconds per step of ``steps`` calls after ``warmup`` untimed ones, and the peak memory in MiB: the
    GPU's allocations on CUDA, else the process's resident set."""
    for _ in range(warmup):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = (time.perf_counter() - start) / steps
    if device == "cuda":
        return seconds, torch.cuda.max_memory_allocated() / 2**20
    return seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class StepClock:
    """Steady-state timing: from the start of step ``warmup`` to the end of the last step."""

    def __init__(self, cfg: BenchConfig) -> None:
        self.cfg = cfg
        self.start: float | None = None
        self.end: float | None = None
        self.losses: list[float] = []
        self.usage_at_start: resource.struct_rusage | None = None

    def _sync(self) -> None:
        if self.cfg.device == "cuda":
            torch.cuda.synchronize()

    def step_started(self, step: int) -> None:
        if step == self.cfg.warmup:
            self._sync()
            self.start = time.perf_counter()
            self.usage_at_start = resource.getrusage(resource.RUSAGE_SELF)

    def step_ended(self, loss: float) -> None:
        self.losses.append(loss)
        self._sync()
        self.end = time.perf_counter()

    def result(self, runner: str) -> RunResult:
        seconds = self.end - self.start
        timed = self.cfg.steps - self.cfg.warmup
        tokens = timed * self.cfg.batch_size * self.cfg.block_size
        usage, first = resource.getrusage(resource.RUSAGE_SELF), self.usage_at_start
        assert first is not None, "no step reached the warm-up's end"
        faults = (usage.ru_minflt - first.ru_minflt) / timed
        system_ms = (usage.ru_stime - first.ru_stime) * 1e3 / timed
        return RunResult(runner, tokens / seconds, seconds, self.losses, usage.ru_maxrss / 1024, faults, system_ms)
