"""The ways to run the same training steps; each is run in a fresh process by ``bench.train_speed`` and
``bench.vs_nanogpt``.

python -m bench.runners RUNNER CONFIG_JSON   -> prints one JSON line
"""

import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import lightning as L
import torch

from bench.common import BenchConfig, StepClock, build, optimizer_and_schedule
from lit_gpt2.data.datamodule import MovieScriptsDataModule
from lit_gpt2.optim import adamw_param_groups, warmup_cosine_scheduler

# nanoGPT's model.py, unchanged, beside the checkout (shared/anchors); NANOGPT_DIR points elsewhere.
NANOGPT_DIR = Path(os.environ.get("NANOGPT_DIR", Path(__file__).resolve().parents[2] / "shared/anchors/nanogpt"))


def run_ours(cfg: BenchConfig) -> StepClock:
    """lit-gpt2's training path: GPT2LitModule and MovieScriptsDataModule under Lightning's Trainer."""
    module, data = build(cfg)
    clock = StepClock(cfg)

    class Clock(L.Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            clock.step_started(trainer.global_step)

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            clock.step_ended(outputs["loss"].item())

    trainer = L.Trainer(
        accelerator=cfg.device,
        devices=1,
        precision=cfg.precision,
        max_steps=cfg.steps,
        gradient_clip_val=1.0,
        use_distributed_sampler=False,
        limit_val_batches=0,
        num_sanity_val_steps=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[Clock()],
    )
    trainer.fit(module, datamodule=data)
    return clock


def run_raw(cfg: BenchConfig) -> StepClock:
    """The floor: a hand-written loop over the same model, data order, optimizer and schedule."""
    module, data = build(cfg)
    model = module.model.to(cfg.device).train()
    optimizer, scheduler = optimizer_and_schedule(module, cfg)

    def loss_of(input_ids: torch.Tensor) -> torch.Tensor:
        return model(input_ids=input_ids, labels=input_ids).loss

    return _raw_loop(cfg, data.train_dataloader(), RawStep(cfg, model, loss_of, optimizer, scheduler))


def run_ours_loop(cfg: BenchConfig) -> StepClock:
    """lit-gpt2's training step (the module's own loss, the lean forward by default, and its fused AdamW)
    in the raw loop, without Lightning's Trainer: ``ours`` over this is what the Trainer costs per step."""
    step, data = ours_step(cfg)
    return _raw_loop(cfg, data.train_dataloader(), step)


def ours_step(cfg: BenchConfig) -> "tuple[RawStep, MovieScriptsDataModule]":
    """lit-gpt2's step as the Trainer runs it, as a ``RawStep``; and the data module it was built with."""
    module, data = build(cfg)
    module = module.to(cfg.device).train()
    module.resolve_speed_switches(on_gpu=cfg.device == "cuda", sharded=False)  # as the Trainer's setup does
    module.tune_allocator()  # as setup does; the whole process's (bench.interleaved gives each runner its own)
    # The bench's precisions (32-true, bf16-mixed) have no loss scaler.
    optimizer, scheduler = module.optimizer_and_scheduler(cfg.steps, fused=module.uses_fused_adamw(scaled=False))

    def loss_of(input_ids: torch.Tensor) -> torch.Tensor:
        return module.shared_step({"input_ids": input_ids})[0]

    return RawStep(cfg, module, loss_of, optimizer, scheduler), data


def run_nanogpt(cfg: BenchConfig, bias: bool) -> StepClock:
    """nanoGPT's own ``model.py`` in the raw loop (``nanogpt_step``)."""
    step, data = nanogpt_step(cfg, bias)
    return _raw_loop(cfg, data.train_dataloader(), step)


def nanogpt_step(cfg: BenchConfig, bias: bool) -> "tuple[RawStep, MovieScriptsDataModule]":
    """nanoGPT's own ``model.py`` as a ``RawStep``: the same data and order, shape, initial weights (copied
    from the GPT-2 model; with ``bias=False`` nanoGPT has no biases to copy), AdamW groups, schedule,
    clipping and precision; compiled on a GPU, as nanoGPT's train.py does by default (its CPU recipe
    does not)."""
    if not (NANOGPT_DIR / "model.py").exists():
        raise SystemExit(f"bench: nanoGPT's model.py is not in {NANOGPT_DIR}: set NANOGPT_DIR to its folder")
    if str(NANOGPT_DIR) not in sys.path:  # once per process, however many runners ask
        sys.path.append(str(NANOGPT_DIR))  # appended: its bench.py must not shadow this package
    from model import GPT, GPTConfig  # nanoGPT's

    module, data = build(cfg)
    gpt2 = module.model.config
    config = GPTConfig(
        block_size=gpt2.n_positions, vocab_size=gpt2.vocab_size, n_layer=gpt2.n_layer, n_head=gpt2.n_head,
        n_embd=gpt2.n_embd, dropout=0.0, bias=bias,
    )  # fmt: skip
    model = GPT(config)
    _copy_gpt2_weights(module.model.state_dict(), model)
    model = model.to(cfg.device).train()
    hp = module.hparams
    optimizer = torch.optim.AdamW(
        adamw_param_groups(model, hp.weight_decay), lr=hp.learning_rate, betas=tuple(hp.betas),
        fused=cfg.device == "cuda" or None,
    )  # fmt: skip
    scheduler = warmup_cosine_scheduler(optimizer, min(hp.warmup_steps, cfg.steps), cfg.steps, hp.min_lr_ratio)
    forward = torch.compile(model) if cfg.device == "cuda" else model
    no_target = torch.full((cfg.batch_size, 1), -1, device=cfg.device)  # nanoGPT's ignore_index

    def loss_of(input_ids: torch.Tensor) -> torch.Tensor:
        # Every position forward, the last without a target: the same work and loss as the others.
        return forward(input_ids, torch.cat([input_ids[:, 1:], no_target], dim=1))[1]

    return RawStep(cfg, model, loss_of, optimizer, scheduler), data


def _copy_gpt2_weights(state: dict[str, torch.Tensor], model: torch.nn.Module) -> None:
    """GPT-2's weights into nanoGPT's, which has the same names; its Linear weights are transformers'
    Conv1D weights transposed."""
    with torch.no_grad():
        for name, param in model.named_parameters():
            transposed = name.endswith(("c_attn.weight", "c_proj.weight", "c_fc.weight"))
            param.copy_(state[name].t() if transposed else state[name])


class RawStep:
    """One optimizer step of a hand-written loop: loss, backward, clipping, AdamW, schedule."""

    def __init__(
        self,
        cfg: BenchConfig,
        model: torch.nn.Module,
        loss_of: Callable[[torch.Tensor], torch.Tensor],
        optimizer: torch.optim.Optimizer,
        scheduler: torch.optim.lr_scheduler.LRScheduler,
    ) -> None:
        self.cfg, self.model, self.loss_of, self.optimizer, self.scheduler = cfg, model, loss_of, optimizer, scheduler

    def __call__(self, batch: dict) -> float:
        """The step on ``batch``; its loss (read back, so the step has finished on any device)."""
        cfg = self.cfg
        input_ids = batch["input_ids"].to(cfg.device, non_blocking=True)
        with torch.autocast(cfg.device, dtype=torch.bfloat16, enabled=cfg.precision == "bf16-mixed"):
            loss = self.loss_of(input_ids)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return loss.item()


def _raw_loop(cfg: BenchConfig, loader: torch.utils.data.DataLoader, step: RawStep) -> StepClock:
    clock = StepClock(cfg)
    for index, batch in zip(range(cfg.steps), epochs(loader)):
        clock.step_started(index)
        clock.step_ended(step(batch))
    return clock


def epochs(loader: torch.utils.data.DataLoader) -> Iterator[dict]:
    """The data module's own loader, epoch after epoch: the same epoch-seeded order as the Trainer's."""
    epoch = 0
    while True:
        loader.sampler.set_epoch(epoch)
        yield from loader
        epoch += 1


def run_hf(cfg: BenchConfig) -> StepClock:
    """Hugging Face Trainer on the same model, data order, optimizer and schedule."""
    from transformers import Trainer, TrainerCallback, TrainingArguments

    module, data = build(cfg)
    optimizer, scheduler = optimizer_and_schedule(module, cfg)
    sampler = data.train_dataloader().sampler  # the data module's epoch-seeded order
    clock = StepClock(cfg)

    class Clock(TrainerCallback):
        def on_step_begin(self, args, state, control, **kwargs):
            clock.step_started(state.global_step)

    class SameOrderTrainer(Trainer):
        def _get_train_sampler(self, *args, **kwargs):
            return sampler

        def training_step(self, *args, **kwargs):
            loss = super().training_step(*args, **kwargs)
            clock.step_ended(loss.item())
            return loss

    def collate(rows):
        input_ids = torch.stack([row["input_ids"] for row in rows])
        return {"input_ids": input_ids, "labels": input_ids}

    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(
            output_dir=out,
            per_device_train_batch_size=cfg.batch_size,
            max_steps=cfg.steps,
            max_grad_norm=1.0,
            logging_strategy="no",
            save_strategy="no",
            report_to=[],
            use_cpu=cfg.device == "cpu",
            bf16=cfg.precision == "bf16-mixed",
            seed=cfg.seed,
            dataloader_num_workers=0,
            dataloader_drop_last=True,  # as the data module's training loader
            remove_unused_columns=False,
        )
        trainer = SameOrderTrainer(
            model=module.model,
            args=args,
            train_dataset=data.splits["train"],
            data_collator=collate,
            optimizers=(optimizer, scheduler),
            callbacks=[Clock()],
        )
        trainer.train()
    return clock


RUNNERS = {
    "ours": run_ours,
    "raw": run_raw,
    "ours-loop": run_ours_loop,
    "hf": run_hf,
    "nanogpt": lambda cfg: run_nanogpt(cfg, bias=False),  # as nanoGPT's users run it (its default)
    "nanogpt-bias": lambda cfg: run_nanogpt(cfg, bias=True),  # with GPT-2's biases, as our model has
}

if __name__ == "__main__":
    name, config = sys.argv[1], BenchConfig(**json.loads(sys.argv[2]))
    print("RESULT " + RUNNERS[name](config).result(name).to_json())
