"""What every runner shares, so the three do the same work: data, order, model, optimizer, schedule."""

import json
import resource
import time
from dataclasses import asdict, dataclass, field

import torch

from lit_gpt2.data.datamodule import MovieScriptsDataModule
from lit_gpt2.module import GPT2LitModule
from lit_gpt2.optim import adamw_param_groups, warmup_cosine_scheduler

# Dropout off: each framework draws dropout masks differently, and the runs must end at the same loss.
NO_DROPOUT = {"resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0}
SIZES = {
    "tiny": {"n_layer": 2, "n_head": 2, "n_embd": 64, "block_size": 64},
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
    cache_dir: str | None = None

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

    @property
    def final_loss(self) -> float:
        tail = self.losses[-5:]
        return sum(tail) / len(tail)

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "final_loss": self.final_loss})


def build(cfg: BenchConfig) -> tuple[GPT2LitModule, MovieScriptsDataModule]:
    torch.manual_seed(cfg.seed)  # identical initial weights for every runner
    module = GPT2LitModule(
        config=cfg.model_config(), learning_rate=cfg.learning_rate, warmup_steps=cfg.warmup, min_lr_ratio=0.1
    )
    data = MovieScriptsDataModule(
        block_size=cfg.block_size, batch_size=cfg.batch_size, seed=cfg.seed, cache_dir=cfg.cache_dir
    )
    data.setup("fit")
    return module, data


def optimizer_and_schedule(module: GPT2LitModule, cfg: BenchConfig):
    hp = module.hparams
    optimizer = torch.optim.AdamW(
        adamw_param_groups(module.model, hp.weight_decay), lr=hp.learning_rate, betas=hp.betas
    )
    return optimizer, warmup_cosine_scheduler(optimizer, cfg.warmup, cfg.steps, hp.min_lr_ratio)


class StepClock:
    """Steady-state timing: from the start of step ``warmup`` to the end of the last step."""

    def __init__(self, cfg: BenchConfig) -> None:
        self.cfg = cfg
        self.start: float | None = None
        self.end: float | None = None
        self.losses: list[float] = []

    def _sync(self) -> None:
        if self.cfg.device == "cuda":
            torch.cuda.synchronize()

    def step_started(self, step: int) -> None:
        if step == self.cfg.warmup:
            self._sync()
            self.start = time.perf_counter()

    def step_ended(self, loss: float) -> None:
        self.losses.append(loss)
        self._sync()
        self.end = time.perf_counter()

    def result(self, runner: str) -> RunResult:
        seconds = self.end - self.start
        tokens = (self.cfg.steps - self.cfg.warmup) * self.cfg.batch_size * self.cfg.block_size
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return RunResult(runner, tokens / seconds, seconds, self.losses, peak)
