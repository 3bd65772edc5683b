"""Shared fixtures: a tiny GPT-2 architecture, offline settings, and a way to run the CLI in-process."""

import atexit
import functools
import gc
import json
import logging
import os
import re
import runpy
import shutil
import signal
import sys
import tempfile
import time
from unittest import mock

# Before any Hugging Face import: never touch the network, and keep caches out of the user's home.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("HF_DATASETS_CACHE", tempfile.mkdtemp(prefix="lit-gpt2-hf-datasets-"))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Under pytest-xdist (scripts/test.sh runs one worker per core), each worker and the processes its tests
# start get an equal share of the cores: two workers each running torch on every core run slower than one.
if "PYTEST_XDIST_WORKER_COUNT" in os.environ:
    _share = max(1, (os.cpu_count() or 1) // int(os.environ["PYTEST_XDIST_WORKER_COUNT"]))
    os.environ.setdefault("OMP_NUM_THREADS", str(_share))

from pathlib import Path

import lightning as L
import pytest
import torch
import yaml

from lit_gpt2.cli import main

REPO = Path(__file__).resolve().parents[1]

# Two layers, 32 wide: a forward pass over a 32-token block takes milliseconds on a CPU.
TINY_CONFIG = {"n_layer": 2, "n_head": 2, "n_embd": 32, "n_positions": 128}

# The token cache every tiny fit shares: tokenizing the embedded corpus takes seconds, reading it back
# a fraction of one, and the cache is keyed by every setting that changes it. Tests of the cache itself
# give their own folder.
SHARED_CACHE = Path(tempfile.mkdtemp(prefix="lit-gpt2-test-cache-"))
atexit.register(shutil.rmtree, SHARED_CACHE, ignore_errors=True)


# scripts/test.sh runs the suite on one pytest-xdist worker per core. Tests that share a costly fixture go
# to one worker together, so the fixture is built once: files whose tests share a module-scoped fixture,
# and the files of the tests that read each shared fit (``fitted``; ``watched`` and ``coded_run``, which
# test_sample_generation reads both). Every other test goes wherever a worker is free. A file missing
# here costs a second build of its fixture, never a failure.
TOGETHER = {
    "fitted": (
        "test_cli.py",
        "data/test_corpus.py",
        "test_faults.py",
        "test_resume.py",
        "commands/test_train_tokenizer.py",
    ),
    "watched": (
        "callbacks/test_sample_generation.py",
        "callbacks/test_attention_heatmap.py",
        "callbacks/test_logit_lens.py",
        "bench/test_callback_cost.py",
        "data/test_control_codes.py",
    ),
    **{
        file: (file,)
        for file in (
            "test_distributed.py",
            "test_docs.py",
            "test_bad_inputs.py",
            "commands/test_demo.py",
            "decoding/test_generate.py",
        )
    },
}
_GROUP_OF_FILE = {f"tests/{file}": group for group, files in TOGETHER.items() for file in files}


def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    missing = sorted(file for file in _GROUP_OF_FILE if not (REPO / file).exists())
    if missing:  # a renamed file would silently build its fixture once per worker
        raise pytest.UsageError(f"TOGETHER in tests/conftest.py names test files that do not exist: {missing}")

    class TogetherScheduling(LoadScopeScheduling):
        """xdist's own ``--dist loadgroup`` cannot be used: with pytest 9 its group marks never reach the
        ids. ``_split_scope`` is the method xdist's own load-file and load-group schedulers override."""

        def _split_scope(self, nodeid: str) -> str:
            return _GROUP_OF_FILE.get(nodeid.split("::")[0], nodeid)

    return TogetherScheduling(config, log)


@pytest.fixture
def tiny_config() -> dict:
    return dict(TINY_CONFIG)


@pytest.fixture
def tiny_module(tiny_config):
    """Seeded: the same weights whatever ran before, so no test passes or fails by the draw."""
    from lit_gpt2.module import GPT2LitModule

    torch.manual_seed(0)
    return GPT2LitModule(config=tiny_config, warmup_steps=2)


@functools.cache
def tiny_tokenizer() -> Path:
    """A 512-token BPE fitted to the embedded corpus's training scenes, once per process: with GPT-2's
    50,257 tokens the output layer and its softmax took most of a tiny fit (3.9 s against 1.0 s)."""
    from lit_gpt2.data.corpus import Corpus

    return Corpus(train_tokenizer=512).fitted_tokenizer()


def tiny_fit_args(
    root: Path, *extra: str, epochs: int = 2, cache_dir: Path = SHARED_CACHE, gpt2_vocab: bool = False
) -> list[str]:
    """``lit-gpt2 fit`` arguments for a seconds-long run of the tiny model on the embedded corpus, with
    ``tiny_tokenizer`` (``gpt2_vocab``: GPT-2's own tokenizer, as a pretrained model needs)."""
    return [
        "fit",
        f"--model.config={TINY_CONFIG}",
        *([] if gpt2_vocab else [f"--model.tokenizer={tiny_tokenizer()}"]),
        "--model.warmup_steps=2",
        "--data.block_size=32",
        f"--data.cache_dir={cache_dir}",
        "--seed_everything=7",
        f"--trainer.max_epochs={epochs}",
        "--trainer.limit_train_batches=4",
        "--trainer.limit_val_batches=3",
        "--trainer.log_every_n_steps=1",
        "--trainer.accelerator=cpu",
        f"--trainer.logger.init_args.save_dir={root / 'runs'}",
        f"--trainer.default_root_dir={root}",
        *extra,
    ]


def eager_and_compiled_loss(device: str, length: int) -> list[tuple[float, float]]:
    """(loss, embedding gradient norm) of one batch, without and then with ``compile``, same weights."""
    from lit_gpt2.module import GPT2LitModule

    no_dropout = {**TINY_CONFIG, "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0}
    batch = {"input_ids": torch.randint(0, 50257, (2, length), device=device)}
    results = []
    for compile_ in (False, True):
        torch.manual_seed(0)
        module = GPT2LitModule(config=no_dropout, compile=compile_).to(device)
        loss, _ = module.shared_step(batch)
        loss.backward()
        results.append((loss.item(), module.model.transformer.wte.weight.grad.norm().item()))
    return results


def printed_val_ppl(output: str) -> float:
    """``val/ppl`` from the metrics table that validate prints."""
    return float(re.search(r"val/ppl\s*│\s*([\d.]+)", output).group(1))


def run_script(path: Path, *args: str) -> int:
    """``python path args``, in this process: no second interpreter to start and import torch into. Returns
    the exit status; a ``SystemExit`` message goes to stderr, as the interpreter would print it."""
    with mock.patch.object(sys, "argv", [str(path), *args]), torch.random.fork_rng():
        try:
            runpy.run_path(str(path), run_name="__main__")
        except SystemExit as exit_:
            if exit_.code is None or isinstance(exit_.code, int):
                return exit_.code or 0
            print(exit_.code, file=sys.stderr)
            return 1
    return 0


@pytest.fixture
def run_cli():
    """Run ``lit-gpt2`` in-process; returns the exit code (0 when it returns normally)."""

    def run(args: list[str]) -> int:
        try:
            main(args)
        except SystemExit as exit_:
            return int(exit_.code or 0)
        return 0

    return run


@pytest.fixture(scope="session")
def fitted(tmp_path_factory) -> Path:
    """The run folder of one tiny ``lit-gpt2 fit`` (2 epochs), shared by the tests that only read it."""
    root = tmp_path_factory.mktemp("fit")
    main(tiny_fit_args(root, "--throughput.window_size=2"))
    (run,) = (root / "runs" / "lit-gpt2").iterdir()
    return run


# The watching callbacks as the tests that read the ``watched`` run give them: samples 6 tokens long under
# three presets and one strategy of the user's own, two named heads drawn, a 16-token passage read for its
# surprisal.
SAMPLE_STRATEGIES = ["greedy", "beam-5", "top-k-40"]
CUSTOM_STRATEGY = {"name": "hot-nucleus", "do_sample": True, "temperature": 1.3, "top_p": 0.8}
WATCHING_CALLBACKS = [
    {
        "class_path": "lit_gpt2.callbacks.SampleGenerationCallback",
        "init_args": {"strategies": [*SAMPLE_STRATEGIES, CUSTOM_STRATEGY], "max_new_tokens": 6},
    },
    {"class_path": "lit_gpt2.callbacks.AttentionHeatmapCallback", "init_args": {"heads": [[0, 1], [1, 0]]}},
    {"class_path": "lit_gpt2.callbacks.LogitLensCallback", "init_args": {"passage_tokens": 16}},
]


@pytest.fixture(scope="session")
def watched(tmp_path_factory) -> Path:
    """The run folder of one tiny 2-epoch fit with all three watching callbacks (``WATCHING_CALLBACKS``), no
    sanity check and a learning rate of 3e-3 (at the default, 8 steps barely move the lens's surprisal),
    shared by the tests that read what each of them logs and what they cost. What the
    transformers library warned of during the fit is in ``transformers-warnings.log`` beside ``runs``."""
    root = tmp_path_factory.mktemp("watched")
    config = root / "watch.yaml"
    config.write_text(yaml.safe_dump({"trainer": {"callbacks": WATCHING_CALLBACKS}}))
    warned = logging.FileHandler(root / "transformers-warnings.log")
    warned.setLevel(logging.WARNING)
    library = logging.getLogger("transformers")
    library.addHandler(warned)
    try:
        main(
            tiny_fit_args(root, f"--config={config}", "--trainer.num_sanity_val_steps=0", "--model.learning_rate=3e-3")
        )
    finally:
        library.removeHandler(warned)
        warned.close()
    (run,) = (root / "runs" / "lit-gpt2").iterdir()
    return run


def copy_of_fitted(fitted: Path, root: Path) -> Path:
    """The ``fitted`` run copied under ``root``, alone, as if ``tiny_fit_args(root)`` had trained there: for
    tests that damage or add to a run (its checkpoints still record their first folder as best)."""
    return shutil.copytree(fitted, root / "runs" / "lit-gpt2" / fitted.name)


@pytest.fixture(scope="session")
def tiny_export(tmp_path_factory) -> Path:
    """A tiny random-init model exported in Hugging Face format, for commands that load a model.

    Seeded, so its weights do not depend on which tests ran before it.
    """
    from lit_gpt2.module import GPT2LitModule

    with torch.random.fork_rng():
        torch.manual_seed(0)
        return GPT2LitModule(config=TINY_CONFIG).export(tmp_path_factory.mktemp("tiny-export"))


@pytest.fixture(scope="session")
def coded_export(tmp_path_factory) -> Path:
    """``tiny_export`` trained (in name only) with the genre codes of comedy and noir (data.control=genre)."""
    from lit_gpt2.module import GPT2LitModule

    with torch.random.fork_rng():
        torch.manual_seed(0)
        module = GPT2LitModule(config=TINY_CONFIG, control_codes=["comedy", "noir"])
        return module.export(tmp_path_factory.mktemp("coded-export"))


class StopAfterEpochs(L.Callback):
    """Ends fit gracefully after ``epochs`` epochs, like a job cut short, without changing the plan
    (max_epochs, LR schedule) the run was started with."""

    def __init__(self, epochs: int = 1) -> None:
        self.epochs = epochs

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.current_epoch + 1 >= self.epochs:
            trainer.should_stop = True


class PoisonWeightsAt(L.Callback):
    """Sets one weight to NaN before training step ``step``: the loss of that step is NaN."""

    def __init__(self, step: int = 6) -> None:
        self.step = step

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: L.LightningModule, batch, batch_idx: int) -> None:
        if trainer.global_step == self.step:
            with torch.no_grad():
                pl_module.model.transformer.wte.weight[:, 0] = float("nan")


@pytest.fixture(scope="session")
def tiny_classifier(tmp_path_factory) -> Path:
    """A tiny random-init GPT-2 text classifier with the labels noir and comedy, saved with its tokenizer.

    Stands in for a hub classifier (sentiment, genre): the tests check plumbing and columns, not verdicts.
    """
    from transformers import GPT2Config, GPT2ForSequenceClassification

    from lit_gpt2.modeling.tokenizer import load_tokenizer

    folder = tmp_path_factory.mktemp("tiny-classifier")
    tokenizer = load_tokenizer("gpt2")
    tokenizer.model_max_length = TINY_CONFIG["n_positions"]  # truncation stays within the tiny context
    config = GPT2Config(
        **TINY_CONFIG,
        vocab_size=len(tokenizer),
        pad_token_id=tokenizer.pad_token_id,
        id2label={0: "noir", 1: "comedy"},
        label2id={"noir": 0, "comedy": 1},
    )
    with torch.random.fork_rng():
        torch.manual_seed(0)
        GPT2ForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def coded_run(tmp_path_factory, tiny_classifier) -> Path:
    """The run folder of one tiny 1-epoch fit with genre codes (data.control=genre), whose genre accuracy
    scores 8 tokens of each validation script and whose samples (greedy, 6 tokens, uncoded and under the
    codes of noir and comedy) are scored by ``tiny_classifier``; shared by the tests that read it."""
    root = tmp_path_factory.mktemp("coded")
    samples = {
        "class_path": "lit_gpt2.callbacks.SampleGenerationCallback",
        "init_args": {
            "strategies": ["greedy"],
            "max_new_tokens": 6,
            "genres": ["noir", "comedy"],
            "classifier": str(tiny_classifier),
            "classifier_device": "cpu",
        },
    }
    # The callback data.control=genre brings, given here to score 8 tokens of each validation script
    # instead of 64 (what it measures is not what these tests are about).
    accuracy = {"class_path": "lit_gpt2.callbacks.GenreAccuracyCallback", "init_args": {"max_tokens": 8}}
    config = root / "coded.yaml"
    config.write_text(yaml.safe_dump({"trainer": {"callbacks": [samples, accuracy]}}))
    main(tiny_fit_args(root, f"--config={config}", "--data.control=genre", epochs=1))
    (run,) = (root / "runs" / "lit-gpt2").iterdir()
    return run


def slurm_job(root: Path) -> dict[str, str]:
    """The environment of a one-task SLURM job 4242, with a stand-in ``scontrol`` first on the PATH that
    appends what it is asked to ``root/scontrol.log``."""
    bin_dir = root / "bin"
    bin_dir.mkdir()
    scontrol = bin_dir / "scontrol"
    scontrol.write_text(f'#!/bin/sh\necho "$@" >> {root / "scontrol.log"}\n')
    scontrol.chmod(0o755)
    tasks = {"SLURM_NTASKS": "1", "SLURM_NTASKS_PER_NODE": "1", "SLURM_JOB_NUM_NODES": "1"}
    ranks = {"SLURM_PROCID": "0", "SLURM_LOCALID": "0", "SLURM_NODEID": "0", "SLURM_NODELIST": "localhost"}
    job = {"SLURM_JOB_ID": "4242", "SLURM_JOB_NAME": "lit-gpt2"}
    return {"PATH": f"{bin_dir}:{os.environ['PATH']}"} | job | tasks | ranks


class RaiseSignalAfterSteps(L.Callback):
    """Sends this process ``signum`` once ``steps`` optimizer steps are done, and writes to ``path`` (JSON)
    whether ``file`` existed right after the signal and at the next batch end."""

    def __init__(self, path: str, file: str, steps: int = 2, signum: int = int(signal.SIGUSR1)) -> None:
        self.path, self.file, self.steps, self.signum = Path(path), Path(file), steps, signum
        self.seen: dict[str, bool] = {}

    def on_train_batch_end(self, trainer: L.Trainer, *args) -> None:
        if "right_after" in self.seen and "next_batch" not in self.seen:
            self.seen["next_batch"] = self.file.exists()
            self.path.write_text(json.dumps(self.seen))
        elif trainer.global_step >= self.steps and not self.seen:
            signal.raise_signal(self.signum)  # handled before the next line runs
            self.seen["right_after"] = self.file.exists()


class MarkAfterSteps(L.Callback):
    """Touches ``path`` once ``steps`` optimizer steps are done: tells a test driving a subprocess that
    training has really started (a signal sent before the first step finds nothing to save)."""

    def __init__(self, path: str, steps: int = 1) -> None:
        self.path = Path(path)
        self.steps = steps

    def on_train_batch_end(self, trainer: L.Trainer, *args) -> None:
        if trainer.global_step >= self.steps:
            self.path.touch()


class SleepAtBatchEnd(L.Callback):
    """Takes ``seconds`` at every training batch's end: a callback's hook inside the batch, which
    ``bench.fit_timeline`` must not count as the optimizer's step."""

    def __init__(self, seconds: float = 0.1) -> None:
        self.seconds = seconds

    def on_train_batch_end(self, trainer: L.Trainer, *args) -> None:
        time.sleep(self.seconds)


class CollectAtBatchEnd(L.Callback):
    """Runs a full garbage collection at every training batch's end, inside the batch: what
    ``bench.fit_timeline`` must count as garbage collection within training batches."""

    def on_train_batch_end(self, trainer: L.Trainer, *args) -> None:
        gc.collect()
