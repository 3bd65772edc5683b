"""The three ways to run the same training steps; each is run in a fresh process by ``bench.train_speed``.

python -m bench.runners RUNNER CONFIG_JSON   -> prints one JSON line
"""

import json
import sys
import tempfile

import lightning as L
import torch

from bench.common import BenchConfig, StepClock, build, optimizer_and_schedule


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
    loader = data.train_dataloader()  # the data module's own loader: same epoch-seeded order
    clock = StepClock(cfg)
    autocast = torch.autocast(cfg.device, dtype=torch.bfloat16, enabled=cfg.precision == "bf16-mixed")
    step, epoch = 0, 0
    while step < cfg.steps:
        loader.sampler.set_epoch(epoch)
        for batch in loader:
            if step == cfg.steps:
                break
            clock.step_started(step)
            input_ids = batch["input_ids"].to(cfg.device, non_blocking=True)
            with autocast:
                loss = model(input_ids=input_ids, labels=input_ids).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            clock.step_ended(loss.item())
            step += 1
        epoch += 1
    return clock


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


RUNNERS = {"ours": run_ours, "raw": run_raw, "hf": run_hf}

if __name__ == "__main__":
    name, config = sys.argv[1], BenchConfig(**json.loads(sys.argv[2]))
    print("RESULT " + RUNNERS[name](config).result(name).to_json())
