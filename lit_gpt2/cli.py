"""The ``lit-gpt2`` command: LightningCLI's fit/validate/test/predict plus the project's own commands."""

import errno
import json
import operator
import os
import re
import sys
import warnings
from argparse import ArgumentError
from pathlib import Path
from typing import Any, TypeVar

import lightning as L
import torch
from jsonargparse import Namespace
from lightning.pytorch.callbacks import LearningRateMonitor, ModelCheckpoint, RichProgressBar
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI

from lit_gpt2.callbacks.architecture_summary import ArchitectureSummaryCallback
from lit_gpt2.callbacks.export import HFExportCallback
from lit_gpt2.callbacks.genre_accuracy import GenreAccuracyCallback
from lit_gpt2.callbacks.requeue import DeferredRequeueSignal
from lit_gpt2.callbacks.throughput import TokenThroughputMonitor
from lit_gpt2.checkpoints import best_checkpoint_recorded_in, find_last_checkpoint, verify_checkpoint
from lit_gpt2.commands import COMMANDS
from lit_gpt2.commands.runner import run_command
from lit_gpt2.data.corpus import Corpus
from lit_gpt2.data.datamodule import MovieScriptsDataModule
from lit_gpt2.distributed import close_process_group
from lit_gpt2.errors import UserInputError
from lit_gpt2.modeling.tokenizer import tokenizer_source
from lit_gpt2.module import GPT2LitModule
from lit_gpt2.preflight import check_resume, check_trainer

E = TypeVar("E", bound=BaseException)

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


class OneLineErrorParser(LightningArgumentParser):
    """Raises its errors (``exit_on_error=False``) for ``main`` to print in one line, instead of
    jsonargparse's whole usage (some 120 lines for ``fit``) above the line that matters."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("exit_on_error", False)
        super().__init__(*args, **kwargs)


class LitGPT2CLI(LightningCLI):
    """LightningCLI with the default callbacks configurable by name and the tokenizer given once."""

    def __init__(
        self,
        model_class: type[L.LightningModule] | None = None,
        datamodule_class: type[L.LightningDataModule] | None = None,
        **kwargs: Any,
    ) -> None:
        """LightningCLI's arguments (all but the two classes by keyword), its parser a ``OneLineErrorParser``."""
        super().__init__(model_class, datamodule_class, parser_class=OneLineErrorParser, **kwargs)

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
        parser.add_lightning_class_args(DeferredRequeueSignal, "requeue")
        parser.link_arguments(
            ("model.pretrained", "model.tokenizer"), "data.tokenizer", compute_fn=tokenizer_source, apply_on="parse"
        )
        # Genre control codes: the model learns the codes the corpus's genres give (its tokenizer, codes
        # included, is then handed to the data: after_instantiate_classes).
        parser.link_arguments("data.control_format", "model.control_format", apply_on="parse")
        parser.link_arguments(
            "data.corpus", "model.control_codes", compute_fn=operator.attrgetter("codes"), apply_on="instantiate"
        )

    def _parse_ckpt_path(self) -> None:
        # Lightning merges the checkpoint's hyperparameters into the config here, which would hide a
        # --model.config of another shape (trained and exported instead of the one asked for, silently):
        # the checkpoint is checked against the options as the user gave them, first.
        subcommand = self.config.get("subcommand")
        config = self.config[subcommand] if subcommand else self.config
        if config.get("ckpt_path") not in (None, "last", "best", "hpc", "registry"):
            verify_checkpoint(config.ckpt_path)
            check_resume(config, subcommand)
        super()._parse_ckpt_path()

    def before_instantiate_classes(self) -> None:
        config = self.config[self.subcommand] if self.subcommand else self.config
        check_trainer(config.trainer, self.subcommand)
        if config.trainer.enable_progress_bar is False:
            # Lightning refuses a bar callback beside enable_progress_bar=false, and ours is always there:
            # switch the bar itself off instead.
            config.progress_bar.refresh_rate = 0
            config.trainer.enable_progress_bar = None
        if config.trainer.precision is None:
            config.trainer.precision = default_precision(config.trainer.accelerator)
        if config.get("ckpt_path") in ("last", "best"):
            resolve_named_checkpoint(config, resume_run=self.subcommand == "fit")
        if config.get("ckpt_path") not in (None, "hpc", "registry"):
            # A damaged checkpoint gets one clear line, before any model is built or downloaded.
            verify_checkpoint(config.ckpt_path)
            check_resume(config, self.subcommand)  # "last" and "best", now resolved
        if config.data.train_tokenizer:
            use_fitted_tokenizer(config)

    def after_instantiate_classes(self) -> None:
        # The tokenizer is resolved once, by the model (its name, or the fitted BPE, with the corpus's
        # codes), and the data tokenises with that very object: one vocabulary, never loaded twice.
        self.datamodule.tokenizer = self.model.tokenizer

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
    """Point the model at the BPE tokenizer that ``data.train_tokenizer`` asks for, fitted to the corpus's
    training scripts the first time and read from the cache after. The path goes into the config, so the
    saved config and the checkpoint name it; the data's copy keeps the two hyperparameters equal."""
    if config.model.pretrained:
        raise UserInputError(
            f"data.train_tokenizer={config.data.train_tokenizer} fits a new vocabulary, which the pretrained "
            f"weights of model.pretrained={config.model.pretrained!r} cannot use: unset one of the two"
        )
    fitted = str(Corpus.from_options(config.data.as_dict()).fitted_tokenizer())
    config.model.tokenizer = config.data.tokenizer = fitted


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
    if resume_run and logger_args is not None and last.parent in versions:
        logger_args.version = versions[last.parent]
        # Writing into that run's checkpoint folder is the point; Lightning would warn that it is not empty.
        warnings.filterwarnings("ignore", message=r"Checkpoint directory .* exists and is not empty")


USAGE_EXTRA = """
Project commands: {commands}
Run `lit-gpt2 COMMAND --help` for each.
"""


def main(args: list[str] | None = None) -> None:
    """Entry point of ``lit-gpt2`` and ``python -m lit_gpt2``; ``args`` lets tests call it directly.

    A mistake the user can fix ends in one line and exit code 2; ``--debug`` (anywhere on the command
    line) or ``LIT_GPT2_DEBUG=1`` shows the traceback instead, for a bug report.
    """
    argv = sys.argv[1:] if args is None else list(args)
    debug = "--debug" in argv or os.environ.get("LIT_GPT2_DEBUG", "") not in ("", "0")
    argv = [arg for arg in argv if arg != "--debug"]
    if args is None:
        sys.argv[1:] = argv  # LightningCLI reads sys.argv itself (and warns when given both)
    try:
        if argv and argv[0] in COMMANDS:
            run_command(argv[0], COMMANDS[argv[0]], argv[1:])
            return
        _lightning_cli(args if args is None else argv)
        close_process_group()
    except KeyboardInterrupt:
        if debug:
            raise
        print("lit-gpt2: interrupted (Ctrl-C); a fit resumes with --ckpt_path=last", file=sys.stderr)
        raise SystemExit(130) from None
    except Exception as err:
        message = None if debug else one_line_error(err, argv)
        if message is None:
            raise
        print(f"lit-gpt2: error: {message}", file=sys.stderr)
        raise SystemExit(2) from None


def _lightning_cli(args: list[str] | None) -> LitGPT2CLI:
    """LightningCLI's fit/validate/test/predict, run on ``args`` (None: the command line)."""
    return LitGPT2CLI(
        GPT2LitModule,
        MovieScriptsDataModule,
        trainer_defaults=TRAINER_DEFAULTS,
        save_config_kwargs={"overwrite": True},
        parser_kwargs={"epilog": USAGE_EXTRA.format(commands=", ".join(COMMANDS))},
        args=args,
    )


def fit(config: str | Path | None = None, **overrides: Any) -> Path:
    """Train from Python exactly as ``lit-gpt2 fit --config CONFIG --group.option=value ...`` does, and
    return the run folder (``runs/lit-gpt2/version_N``: checkpoints, TensorBoard events, ``export/``).

    Each keyword is a group of options (``data``, ``model``, ``trainer``, ``checkpoint``, ``export``, ...)
    given as a dict, or a top-level option (``seed_everything=7``, ``ckpt_path="last"``); keys with dots
    reach deeper (``trainer={"logger.init_args.save_dir": "runs"}``). For example::

        lit_gpt2.fit("configs/quickstart.yaml", data={"source": "scripts/"}, trainer={"max_epochs": 1})

    A mistake the user can fix raises ``UserInputError`` (the CLI's one-line error) instead of exiting.
    """
    args = ["fit", *([f"--config={config}"] if config is not None else []), *override_args(overrides)]
    try:
        cli = _lightning_cli(args)
    except Exception as err:
        user_error = _find(err, UserInputError)
        if user_error is None or user_error is err:
            raise
        raise user_error from None
    log_dir = cli.trainer.log_dir
    close_process_group()
    return Path(log_dir or cli.trainer.default_root_dir)


def override_args(overrides: dict[str, Any], prefix: str = "") -> list[str]:
    """``{"data": {"source": "x"}, "seed_everything": 7}`` as ``["--data.source=x", "--seed_everything=7"]``:
    a dict under a group becomes its options; a dict or list value deeper down is given whole, as JSON
    (``model={"config": {"n_layer": 2}}`` is ``--model.config={"n_layer": 2}``)."""
    args = []
    for key, value in overrides.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and not prefix:
            args += override_args(value, prefix=f"{name}.")
        else:
            args.append(f"--{name}={value if isinstance(value, str) else json.dumps(value)}")
    return args


def one_line_error(err: BaseException, argv: list[str]) -> str | None:
    """The one line to print for an error the user can fix (None: a bug, whose traceback is shown)."""
    user_error = _find(err, UserInputError)
    if user_error is not None:
        return str(user_error)
    if isinstance(err, ArgumentError):
        known = argv and argv[0] in (*COMMANDS, *LightningCLI.subcommands())
        return f"{_parser_message(str(err))} (see: lit-gpt2 {argv[0] + ' ' if known else ''}--help)"
    os_error = _find(err, OSError)
    if os_error is not None and os_error.errno in DISK_ERRNOS:
        return DISK_ERRNOS[os_error.errno].format(path=os_error.filename or "a file")
    return None


# Writes that fail for want of space or permission. Every checkpoint, export and cache is written
# beside its place and renamed when complete, so what existed before is intact.
_NO_SPACE = (
    "{why} (writing {path}): nothing was corrupted (checkpoints, exports and caches are renamed into place only "
    "when complete); free some space and run again (fit: --ckpt_path=last)"
)
_NOT_WRITABLE = (
    "{why}: {path}: nothing was written there; choose a folder you can write to (--trainer.default_root_dir, "
    "--data.cache_dir, --out, --jsonl) or fix its permissions"
)
DISK_ERRNOS = {
    errno.ENOSPC: _NO_SPACE.format(why="no space left on the device", path="{path}"),
    errno.EDQUOT: _NO_SPACE.format(why="disk quota exceeded", path="{path}"),
    errno.EACCES: _NOT_WRITABLE.format(why="permission denied", path="{path}"),
    errno.EPERM: _NOT_WRITABLE.format(why="operation not permitted", path="{path}"),
    errno.EROFS: _NOT_WRITABLE.format(why="read-only file system", path="{path}"),
}


def _parser_message(message: str) -> str:
    """jsonargparse's multi-line report of a bad option as one line: ``--data.control: ... Given value: mood``."""
    choices = re.findall(r"Expected a typing\.Literal\[(.*?)\]", message)
    given = re.search(r'Parser key "([^"]+)".*(?:Given|Got) value: (.*)$', message, re.DOTALL)
    if choices and given:
        accepted = [*choices, "null"] if "Expected a <class 'NoneType'>" in message else choices
        return f"--{given[1]}={given[2].strip()} is not one of: {', '.join(accepted).replace(chr(39), '')}"
    union = re.search(r'Parser key "([^"]+)".*Subtypes: \[(.*?)\].*Given value: (.*)$', message, re.DOTALL)
    if union:
        subtypes = re.sub(r"<class '(\w+)'>", r"\1", union[2]).replace("NoneType", "null").split(", ")
        return f"--{union[1]}={union[3].strip()} is not a valid {' or '.join(subtypes)}"
    out_of_bounds = r'Parser key "([^"]+)".*Not of type \w+: (.*) does not conform to restriction (.*)'
    bound = re.search(out_of_bounds, message, re.DOTALL)
    if bound:
        must = re.sub(r"v([<>=]+)", r"\1 ", bound[3].strip())  # "v>=0 and v<1" -> ">= 0 and < 1"
        return f"--{bound[1]}: {bound[2]} is out of range, it must be {must}"
    message = re.sub(r'Parser key "([^"]+)"', r"--\1", message)
    message = re.sub(r"<class '([\w.]+)'>", r"\1", message).replace("typing.", "").replace(" a int", " an int")
    lines = [line.strip().removeprefix("- ") for line in message.splitlines()]
    return "; ".join(line for line in lines if line).replace(":;", ":")


def _find(err: BaseException | None, kind: type[E]) -> E | None:
    """The first exception of ``kind`` in ``err``'s chain of causes: jsonargparse wraps errors raised
    while it builds a class."""
    seen = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, kind):
            return err
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return None
