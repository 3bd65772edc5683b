"""The ``lit-gpt2`` command: LightningCLI's fit/validate/test/predict plus the project's own commands."""

import sys
import warnings
from pathlib import Path
from typing import Any

import lightning as L
import torch
from jsonargparse import Namespace
from lightning.pytorch.callbacks import LearningRateMonitor, ModelCheckpoint, RichProgressBar
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI

from lit_gpt2.callbacks.architecture_summary import ArchitectureSummaryCallback
from lit_gpt2.callbacks.export import HFExportCallback
from lit_gpt2.callbacks.genre_accuracy import GenreAccuracyCallback
from lit_gpt2.callbacks.throughput import TokenThroughputMonitor
from lit_gpt2.checkpoints import best_checkpoint_recorded_in, find_last_checkpoint, verify_checkpoint
from lit_gpt2.commands import COMMANDS
from lit_gpt2.commands.runner import run_command
from lit_gpt2.data.datamodule import MovieScriptsDataModule
from lit_gpt2.distributed import close_process_group
from lit_gpt2.errors import UserInputError
from lit_gpt2.modeling.tokenizer import tokenizer_source
from lit_gpt2.module import GPT2LitModule

TRAINER_DEFAULTS = {
    "logger": {
        "class_path": "lightning.pytorch.loggers.TensorBoardLogger",
        "init_args": {"save_dir": "runs", "name": "lit-gpt2"},
    },
    "gradient_clip_val": 1.0,
    # The data module shards and seeds its own samplers (exact resume, no padded duplicates).
    "use_distributed_sampler": False,
    "log_every_n_steps": 10,
}


class LitGPT2CLI(LightningCLI):
    """LightningCLI with the default callbacks configurable by name and the tokenizer given once."""

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.add_lightning_class_args(ModelCheckpoint, "checkpoint")
        parser.set_defaults(
            {
                "checkpoint.monitor": "val/ppl",
                "checkpoint.mode": "min",
                "checkpoint.save_last": True,
                "checkpoint.filename": "epoch{epoch:02d}-val_ppl{val/ppl:.2f}",
                "checkpoint.auto_insert_metric_name": False,
            }
        )
        parser.add_lightning_class_args(LearningRateMonitor, "lr_monitor")
        parser.set_defaults({"lr_monitor.logging_interval": "step"})
        parser.add_lightning_class_args(RichProgressBar, "progress_bar")
        parser.add_lightning_class_args(HFExportCallback, "export")
        parser.add_lightning_class_args(ArchitectureSummaryCallback, "architecture_summary")
        parser.add_lightning_class_args(TokenThroughputMonitor, "throughput")
        parser.link_arguments(
            ("model.pretrained", "model.tokenizer"), "data.tokenizer", compute_fn=tokenizer_source, apply_on="parse"
        )
        # Genre control codes: the model learns the codes the data puts before its scripts.
        parser.link_arguments("data.control_format", "model.control_format", apply_on="parse")
        parser.link_arguments("data.control_codes", "model.control_codes", apply_on="instantiate")

    def before_instantiate_classes(self) -> None:
        config = self.config[self.subcommand] if self.subcommand else self.config
        if config.trainer.precision is None:
            config.trainer.precision = default_precision(config.trainer.accelerator)
        if config.get("ckpt_path") in ("last", "best"):
            resolve_named_checkpoint(config, resume_run=self.subcommand == "fit")
        if config.get("ckpt_path") not in (None, "hpc", "registry"):
            # A damaged checkpoint gets one clear line, before any model is built or downloaded.
            verify_checkpoint(config.ckpt_path)
        if config.data.train_tokenizer:
            use_fitted_tokenizer(config)

    def instantiate_trainer(self, **kwargs: Any) -> L.Trainer:
        """The trainer, with ``GenreAccuracyCallback`` added when ``fit`` trains with genre codes: someone
        turning codes on expects to see whether the model follows them. One given in the config wins."""
        given = self.config[self.subcommand] if self.subcommand else self.config
        built = self.config_init[self.subcommand] if self.subcommand else self.config_init
        callbacks = built.trainer.get("callbacks") or []
        callbacks = callbacks if isinstance(callbacks, list) else [callbacks]
        coded = self.subcommand in (None, "fit") and given.data.control == "genre"  # None: run=False, fit by hand
        if coded and "callbacks" not in kwargs and not any(isinstance(c, GenreAccuracyCallback) for c in callbacks):
            kwargs["callbacks"] = [*callbacks, GenreAccuracyCallback()]
        return super().instantiate_trainer(**kwargs)

    def after_fit(self) -> None:
        log_dir = self.trainer.log_dir  # a collective under DDP: asked on every rank
        if self.trainer.is_global_zero and self.trainer.logger is not None:
            print(f"\nRun saved in {log_dir}\nWatch it: tensorboard --logdir {self.trainer.logger.save_dir}")


def default_precision(accelerator: object) -> str:
    """bf16-mixed where a CUDA GPU with bf16 will train (faster, half the activation memory, same loss
    curve; see ``python -m bench``), else full precision. An explicit ``trainer.precision`` wins."""
    on_gpu = accelerator in ("auto", "gpu", "cuda") and torch.cuda.is_available()
    return "bf16-mixed" if on_gpu and torch.cuda.is_bf16_supported() else "32-true"


def use_fitted_tokenizer(config: Namespace) -> None:
    """Point the model and the data at the BPE tokenizer that ``data.train_tokenizer`` asks for, trained
    on the data's training scripts the first time and read from the cache after."""
    if config.model.pretrained:
        raise UserInputError(
            f"data.train_tokenizer={config.data.train_tokenizer} fits a new vocabulary, which the pretrained "
            f"weights of model.pretrained={config.model.pretrained!r} cannot use: unset one of the two"
        )
    config.model.tokenizer = config.data.tokenizer = MovieScriptsDataModule(**config.data.as_dict()).fitted_tokenizer()


def resolve_named_checkpoint(config: Namespace, resume_run: bool) -> None:
    """Turn ``ckpt_path="last"`` into the newest ``last.ckpt`` of earlier runs, and ``"best"`` into the
    best checkpoint that run recorded; ``fit --ckpt_path=last`` then continues in that run's folder and
    TensorBoard run.

    Lightning alone looks for "last" in the new run's own, still empty, checkpoint folder, warns and
    trains from scratch in a new folder; and it knows "best" only within the process that trained.
    """
    name = config.ckpt_path
    logger_args = config.trainer.logger.get("init_args") if isinstance(config.trainer.logger, Namespace) else None
    versions: dict[Path, str] = {}  # checkpoint folder -> the logger version that writes there
    if config.checkpoint.dirpath:
        where = Path(config.checkpoint.dirpath)
    elif logger_args is not None and logger_args.get("save_dir"):
        root = Path(logger_args.save_dir) / (logger_args.get("name") or "")
        version = logger_args.get("version")
        if version is None:
            versions = {run / "checkpoints": run.name for run in root.glob("version_*")}
            where = root / "version_*" / "checkpoints"
        else:
            where = root / (version if isinstance(version, str) else f"version_{version}") / "checkpoints"
    else:
        where = Path(config.trainer.default_root_dir or ".") / "checkpoints"
    last = find_last_checkpoint(list(versions) or [where])
    if last is None:
        raise UserInputError(
            f"--ckpt_path={name} found no last.ckpt in {where}: train once without --ckpt_path, "
            "or pass the path of a checkpoint"
        )
    if name == "best":
        best = best_checkpoint_recorded_in(last)
        if best is None:
            raise UserInputError(
                f"--ckpt_path=best: {last} records no best checkpoint that still exists; pass the path of a checkpoint"
            )
        config.ckpt_path = str(best)
        return
    config.ckpt_path = str(last)
    if resume_run and last.parent in versions:
        logger_args.version = versions[last.parent]
        # Writing into that run's checkpoint folder is the point; Lightning would warn that it is not empty.
        warnings.filterwarnings("ignore", message=r"Checkpoint directory .* exists and is not empty")


USAGE_EXTRA = """
Project commands: {commands}
Run `lit-gpt2 COMMAND --help` for each.
"""


def main(args: list[str] | None = None) -> None:
    """Entry point of ``lit-gpt2`` and ``python -m lit_gpt2``; ``args`` lets tests call it directly."""
    argv = sys.argv[1:] if args is None else list(args)
    try:
        if argv and argv[0] in COMMANDS:
            run_command(argv[0], COMMANDS[argv[0]], argv[1:])
            return
        LitGPT2CLI(
            GPT2LitModule,
            MovieScriptsDataModule,
            trainer_defaults=TRAINER_DEFAULTS,
            save_config_kwargs={"overwrite": True},
            parser_kwargs={"epilog": USAGE_EXTRA.format(commands=", ".join(COMMANDS))},
            args=args,
        )
        close_process_group()
    except Exception as err:
        user_error = _find_user_error(err)
        if user_error is None:
            raise
        print(f"lit-gpt2: error: {user_error}", file=sys.stderr)
        raise SystemExit(2) from None


def _find_user_error(err: BaseException) -> UserInputError | None:
    """The UserInputError behind ``err``: jsonargparse wraps errors raised while it builds a class."""
    seen = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, UserInputError):
            return err
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return None
