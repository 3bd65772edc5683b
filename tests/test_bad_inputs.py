"""Every bad input a user can give ends in one line naming the problem and the fix, exit code 2, no
traceback, and nothing on disk changed: one row per case, run in-process against one tiny fit."""

import errno
import json
import os
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
import yaml

from conftest import TINY_CONFIG, tiny_fit_args


@dataclass
class Case:
    name: str
    args: object  # (paths) -> argv
    expected: str  # a substring of the one line printed


def _fit(*extra: str):
    return lambda p: tiny_fit_args(p.root, *extra)


def _with(p, **fields) -> str:
    return f"--model.config={ {**TINY_CONFIG, **fields} }"


CASES = [
    # Hyperparameters out of their bounds (typed arguments: refused while parsing, before any work).
    Case(
        "learning_rate=0", _fit("--model.learning_rate=0"), "--model.learning_rate: 0 is out of range, it must be > 0"
    ),
    Case("learning_rate<0", _fit("--model.learning_rate=-1"), "--model.learning_rate: -1 is out of range"),
    Case(
        "weight_decay<0", _fit("--model.weight_decay=-1"), "--model.weight_decay: -1 is out of range, it must be >= 0"
    ),
    Case("min_lr_ratio>1", _fit("--model.min_lr_ratio=2"), "--model.min_lr_ratio: 2 is out of range, it must be >= 0"),
    Case("warmup_steps<0", _fit("--model.warmup_steps=-5"), "--model.warmup_steps: -5 is out of range"),
    Case("betas>=1", _fit("--model.betas=[1.5, 0.9]"), "--model.betas: 1.5 is out of range, it must be >= 0 and < 1"),
    Case("num_workers<0", _fit("--data.num_workers=-1"), "--data.num_workers: -1 is out of range"),
    Case("bad choice", _fit("--data.control=mood"), "--data.control=mood is not one of: genre, null"),
    Case("unknown option", _fit("--data.nope=1"), "unrecognized arguments: --data.nope=1"),
    Case("not a number", _fit("--model.learning_rate=fast"), "--model.learning_rate"),
    # Settings that only make sense together, or on another machine.
    Case("max_epochs=0", _fit("--trainer.max_epochs=0"), "trainer.max_epochs=0 trains nothing"),
    Case("max_steps=0", _fit("--trainer.max_steps=0"), "trainer.max_steps=0 trains nothing"),
    Case(
        "n_head does not divide n_embd",
        lambda p: tiny_fit_args(p.root, _with(p, n_head=3)),
        "n_embd=32 does not split into n_head=3",
    ),
    Case("n_layer=0", lambda p: tiny_fit_args(p.root, _with(p, n_layer=0)), "model.config n_layer=0 must be"),
    Case(
        "resume below the checkpoint's epoch",
        lambda p: tiny_fit_args(p.root, f"--ckpt_path={p.ckpt}", epochs=1),
        "has trained 2 epoch(s), more than trainer.max_epochs=1",
    ),
    Case(
        "resume another shape",
        lambda p: tiny_fit_args(p.root, f"--ckpt_path={p.ckpt}", _with(p, n_layer=3), epochs=3),
        "holds a model of n_layer=2, n_head=2, n_embd=32, n_positions=128, but the model options ask for n_layer=3",
    ),
    # Files that are not what they should be.
    Case("missing --config", _fit("--config=/no/such/config.yaml"), "--config: File does not exist"),
    Case(
        "malformed --config", lambda p: tiny_fit_args(p.root, f"--config={p.malformed_yaml}"), "Problems parsing config"
    ),
    Case("data.source=/dev/null", _fit("--data.source=/dev/null"), "is neither a regular file nor a folder"),
    Case(
        "binary files only",
        lambda p: tiny_fit_args(p.root, f"--data.source={p.binary}"),
        "is binary (it holds NUL bytes)",
    ),
    Case("damaged checkpoint", lambda p: tiny_fit_args(p.root, f"--ckpt_path={p.damaged_ckpt}"), "cannot be read"),
    Case("not writable cache", _fit("--data.cache_dir=/sys/lit-gpt2-cache"), "/sys/lit-gpt2-cache"),
    # The commands.
    Case(
        "export into a non-empty folder",
        lambda p: ["export", f"--ckpt_path={p.ckpt}", f"--out={p.users_folder}"],
        "is not empty: give a new folder, or add --overwrite",
    ),
    Case(
        "export onto a file",
        lambda p: ["export", f"--ckpt_path={p.ckpt}", f"--out={p.a_file}"],
        "is a file, not a folder",
    ),
    Case(
        "mistyped model folder",
        lambda p: ["generate", "--prompt=INT.", f"--model={p.root / 'runs' / 'exprot'}"],
        "does not exist: check the path",
    ),
    Case(
        "unknown hub name offline",
        lambda p: ["generate", "--prompt=INT.", "--model=gtp2-typo"],
        "not in the Hugging Face cache",
    ),
    Case(
        "/dev/null as the model",
        lambda p: ["generate", "--prompt=INT.", "--model=/dev/null"],
        "--model=/dev/null is a file, not a model",
    ),
    Case(
        "a folder that is no model",
        lambda p: ["generate", "--prompt=INT.", f"--model={p.binary}"],
        "is a folder without config.json",
    ),
    Case(
        "truncated model.safetensors",
        lambda p: ["perplexity", f"--model={p.truncated_export}"],
        "model.safetensors is damaged",
    ),
    Case(
        "unknown --baseline",
        lambda p: ["compare", f"--model={p.export}", "--baseline=./no/such/model", f"--out={p.root / 'report'}"],
        "--baseline=./no/such/model does not exist",
    ),
    Case(
        "attention on empty text",
        lambda p: ["attention", f"--model={p.export}", "--text=", f"--out={p.root / 'att'}"],
        "--text is empty",
    ),
    Case(
        "lens on empty text",
        lambda p: ["lens", f"--model={p.export}", "--text=", f"--out={p.root / 'lens'}"],
        "at least two tokens",
    ),
    Case(
        "perplexity over binary files",
        lambda p: ["perplexity", f"--model={p.export}", f"--data={p.binary}"],
        "is binary",
    ),
    Case("perplexity stride too long", lambda p: ["perplexity", f"--model={p.export}", "--stride=999"], "(e.g. 64)"),
    Case(
        "not a number (command)",
        lambda p: ["perplexity", f"--model={p.export}", "--stride=abc"],
        "--stride=abc is not a valid int or null",
    ),
    Case(
        "bad choice (command)",
        lambda p: ["perplexity", f"--model={p.export}", "--separator=x"],
        "--separator=x is not one of: eos, blank_line",
    ),
    Case(
        "read-only --jsonl",
        lambda p: [
            "generate",
            "--prompt=INT.",
            f"--model={p.export}",
            "--max_new_tokens=2",
            "--jsonl=/sys/samples.jsonl",
        ],
        "/sys/samples.jsonl",
    ),
]
if torch.cuda.is_available():
    CASES = [c for c in CASES if c.name != "accelerator=gpu without a GPU"]
else:
    CASES.append(Case("accelerator=gpu without a GPU", _fit("--trainer.accelerator=gpu"), "has no CUDA GPU"))


@pytest.fixture(scope="module")
def paths(tmp_path_factory, tiny_export):
    """One tiny fit of 2 epochs (its checkpoint and cache) and the user's files the cases point at."""
    from lit_gpt2.cli import main

    root = tmp_path_factory.mktemp("bad-inputs")
    main(tiny_fit_args(root, "--trainer.limit_train_batches=2", "--trainer.limit_val_batches=1"))
    (ckpt,) = (root / "runs").rglob("last.ckpt")
    p = SimpleNamespace(root=root, ckpt=ckpt, export=tiny_export)
    p.malformed_yaml = root / "malformed.yaml"
    p.malformed_yaml.write_text("model: [\n")
    p.binary = root / "binary"
    p.binary.mkdir()
    (p.binary / "zeros.txt").write_bytes(bytes(20_000))
    (p.binary / "program.txt").write_bytes(b"\x7fELF\x02\x01\x01\x00" + os.urandom(2000))
    p.damaged_ckpt = root / "damaged.ckpt"
    p.damaged_ckpt.write_bytes(ckpt.read_bytes()[:5000])
    p.users_folder = root / "mine"
    p.users_folder.mkdir()
    (p.users_folder / "config.json").write_text('{"the user\'s": true}')
    p.a_file = root / "notes.txt"
    p.a_file.write_text("mine")
    p.truncated_export = root / "truncated-export"
    p.truncated_export.mkdir()
    for file in tiny_export.iterdir():
        data = file.read_bytes()
        (p.truncated_export / file.name).write_bytes(
            data[: len(data) // 2] if file.name == "model.safetensors" else data
        )
    return p


def _snapshot(*roots: Path) -> dict[str, tuple[int, int]]:
    return {
        str(file): (file.stat().st_size, file.stat().st_mtime_ns) for root in roots for file in [root, *root.rglob("*")]
    }


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_bad_input_ends_in_one_line_exit_2_and_changes_nothing(case, paths, run_cli, capsys):
    argv = case.args(paths)
    before = _snapshot(paths.root, paths.export)
    capsys.readouterr()
    assert run_cli(argv) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("lit-gpt2: error: ")]
    assert len(lines) == 1, err
    assert case.expected in lines[0]
    assert "Traceback" not in err and "usage:" not in err
    assert _snapshot(paths.root, paths.export) == before


def test_debug_shows_the_traceback_for_a_bug_report(paths, run_cli, monkeypatch):
    with pytest.raises(Exception, match="does not exist"):
        run_cli(["generate", "--prompt=INT.", "--model=./no/such/model", "--debug"])
    monkeypatch.setenv("LIT_GPT2_DEBUG", "1")
    with pytest.raises(Exception, match="out of range|does not conform"):
        run_cli(tiny_fit_args(paths.root, "--model.learning_rate=0"))


def test_export_with_overwrite_replaces_the_folder(paths, run_cli, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "stale.txt").write_text("old")
    assert run_cli(["export", f"--ckpt_path={paths.ckpt}", f"--out={out}", "--overwrite"]) == 0
    assert (out / "model.safetensors").is_file() and not (out / "stale.txt").exists()
    assert json.loads((out / "config.json").read_text())["n_layer"] == 2
    assert [p.name for p in tmp_path.iterdir()] == ["mine"]  # no scratch folder left beside it


def test_perplexity_default_stride_is_half_the_models_context(paths, run_cli, capsys, tmp_path):
    """The default was 512 whatever the model: the quickstart's own 256-token model failed with it."""
    (tmp_path / "scene.txt").write_text("INT. DINER - NIGHT\n\nMARGO\nKitchen closed at ten.\n" * 20)
    assert run_cli(["perplexity", f"--model={paths.export}", f"--data={tmp_path}"]) == 0
    assert "windows of 128 tokens, stride 64" in capsys.readouterr().out


def test_a_full_disk_while_building_the_cache_says_nothing_was_corrupted(paths, run_cli, capsys, monkeypatch):
    import lit_gpt2.data.token_cache as token_cache

    def no_space(rows, files, dtype):
        raise OSError(errno.ENOSPC, "No space left on device", str(files[0]))

    monkeypatch.setattr(token_cache, "write_streams", no_space)
    cache = paths.root / "fresh-cache"
    assert run_cli(tiny_fit_args(paths.root, f"--data.cache_dir={cache}", "--data.block_size=31")) == 2
    err = capsys.readouterr().err
    assert "no space left on the device" in err and "nothing was corrupted" in err and "Traceback" not in err
    assert not cache.exists() or not any(cache.iterdir())  # no partial cache left to be taken for a whole one


def test_a_full_disk_while_saving_a_checkpoint_keeps_the_last_good_one(tmp_path, run_cli, capsys, monkeypatch):
    import lightning.fabric.plugins.io.torch_io as torch_io

    short = ["--trainer.limit_train_batches=2", "--trainer.limit_val_batches=1"]
    assert run_cli(tiny_fit_args(tmp_path, *short, epochs=1)) == 0
    (last,) = (tmp_path / "runs").rglob("last.ckpt")
    good = last.read_bytes()

    def no_space(checkpoint, path):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(torch_io, "_atomic_save", no_space)
    assert run_cli(tiny_fit_args(tmp_path, *short, f"--ckpt_path={last}", epochs=2)) == 2
    err = capsys.readouterr().err
    assert "no space left on the device" in err and "nothing was corrupted" in err and "Traceback" not in err
    assert last.read_bytes() == good


def test_binary_files_are_skipped_by_name_with_a_warning(tmp_path):
    from lit_gpt2.data.sources import load_scripts

    (tmp_path / "scene.txt").write_text("INT. DINER - NIGHT\n\nMARGO\nKitchen closed at ten.\n")
    (tmp_path / "zeros.txt").write_bytes(bytes(20_000))
    with pytest.warns(UserWarning, match=r"skipped 1 binary file\(s\) of data.source .*zeros.txt"):
        scripts, _ = load_scripts(str(tmp_path))
    assert scripts["title"] == ["scene"]


def test_ctrl_c_in_a_tokenising_worker_leaves_it_to_the_parent():
    """A worker's own KeyboardInterrupt traceback once buried the parent's message."""
    import multiprocess

    with multiprocess.Pool(1) as pool:
        assert pool.apply(_interrupted_worker) == "survived"


def _interrupted_worker() -> str:
    import signal

    from lit_gpt2.data.prepare import ignore_interrupts_in_pool_workers

    ignore_interrupts_in_pool_workers()
    os.kill(os.getpid(), signal.SIGINT)
    return "survived"


def test_the_shipped_configs_show_the_bounds_in_print_config(run_cli, capsys):
    assert run_cli(["fit", "--help"]) == 0
    help_text = capsys.readouterr().out
    assert "PositiveFloat" in help_text and "UnitIntervalOpenRight" in help_text and "ClosedUnitInterval" in help_text
    assert run_cli(["fit", "--model.config={n_layer: 2}", "--print_config"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["model"]["learning_rate"] == 3e-4 and printed["model"]["betas"] == [0.9, 0.95]
