"""Every command in the README and docs/ still runs: the cheap ones on a tiny model, the rest parsed.

Each ``lit-gpt2`` line of a ```bash block is taken as written, its placeholders (``CKPT_OR_DIR``,
``runs/lit-gpt2/version_0/export``, ``TEXT``, ...) replaced by a tiny model and files of the test, and
run in-process. A command too expensive for the suite (training, the hub, a GPU, a server) is listed in
``PARSE_ONLY`` with the reason: it is given ``--print_config`` instead, so its options and values still
have to parse. Other commands must name files that exist, and every relative link must resolve.
"""

import re
import shlex
from pathlib import Path

import pytest

from conftest import REPO

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]

# Commands (matched by their start) not run here, each with its reason; they are parsed instead.
PARSE_ONLY = {
    "lit-gpt2 fit": "trains: minutes on this CPU (the quickstart), or a GPU, the hub and a corpus of real scripts",
    "lit-gpt2 validate": "needs a trained checkpoint of that config (tests/test_cli.py validates one)",
    "lit-gpt2 test": "needs a trained checkpoint of that config (tests/test_cli.py tests one)",
    "lit-gpt2 predict": "needs a trained checkpoint of that config (tests/test_cli.py predicts with one)",
    "lit-gpt2 export": "needs a trained checkpoint (tests/commands/test_export.py exports one)",
    "lit-gpt2 train-tokenizer": "fits a 4,096-token BPE (tests/commands/test_train_tokenizer.py fits a small one)",
    "lit-gpt2 repeated-text": "writes 400,000 documents (tests/data/test_synthetic.py writes a few)",
    "lit-gpt2 demo": "serves a page until stopped (tests/commands/test_demo.py drives one)",
    "lit-gpt2 compare --model runs/lit-gpt2/version_0/export --baseline gpt2": "GPT-2's weights come from the hub",
    "lit-gpt2 compare --model runs/lit-gpt2/version_N/export --genres noir comedy western": (
        "needs a model with 13 genre codes and the classifier of scripts/train_genre_classifier.py"
    ),
    "lit-gpt2 perplexity --model CKPT_OR_DIR --stride 1024": "a 1,024-token context over the whole embedded corpus",
    "lit-gpt2 perplexity --model $model": "WikiText-2 and GPT-2's weights come from the hub",
}

# Appended to a command that runs, to keep it seconds long on the tiny model (later options win).
CHEAPER = {
    "generate": ["--max_new_tokens=4"],
    "compare": ["--max_new_tokens=4", "--strategies", "greedy", "top-p-0.9"],  # two of the 14 presets
    "perplexity": ["--stride=64"],  # the tiny model's context is 128 tokens
}

FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def documented_commands() -> list[tuple[str, str]]:
    """(page, command line) of every shell line in a ```bash block, continuations joined, comments off."""
    found = {}
    for page in PAGES:
        for language, body in FENCE.findall(page.read_text(encoding="utf-8")):
            if language not in ("bash", "sh"):
                continue
            for line in body.replace("\\\n", " ").splitlines():
                line = line.strip()
                if line and not line.startswith(("#", "[", "for ", "done")):
                    found.setdefault(line, page.relative_to(REPO).as_posix())
    return [(page, line) for line, page in found.items()]


COMMANDS = documented_commands()
LIT_GPT2 = [(page, line) for page, line in COMMANDS if line.startswith("lit-gpt2 ")]


def test_the_docs_have_commands_to_check():
    assert len(LIT_GPT2) > 20
    # Every entry of the lists above still matches a documented command, so none outlives its command.
    assert all(any(line.startswith(prefix) for _, line in LIT_GPT2) for prefix in PARSE_ONLY)


@pytest.fixture(scope="module")
def scripts(tmp_path_factory) -> Path:
    """A folder of two short screenplays, for ``--data``."""
    folder = tmp_path_factory.mktemp("scripts")
    (folder / "a.txt").write_text("INT. DINER - NIGHT\n\nMARGO\nKitchen closed.\n" * 8)
    (folder / "b.txt").write_text("EXT. ROOF - DAY\n\nRain on the glass.\n" * 8)
    return folder


def _argv(line: str, model: Path, scripts: Path, out: Path) -> list[str]:
    """The command's arguments, placeholders replaced and every output sent into ``out``."""
    line = re.sub(r"\s\[--[^\]]*\]", "", line)  # optional parts: [--temperature 0.8 ...]
    for placeholder in ("runs/lit-gpt2/version_0/export", "runs/lit-gpt2/version_N/export", "runs/.../export"):
        line = line.replace(placeholder, str(model))
    replacements = {
        "CKPT_OR_DIR": str(model),
        "CKPT": str(out / "model.ckpt"),
        "CONFIG": "configs/quickstart.yaml",
        "TEXT": "MARGO\\nKitchen closed.",
        "SOURCE": str(scripts),
        "/path/to/held_out_scripts": str(scripts),
        "$model": "gpt2",
    }
    argv = [replacements.get(arg, arg) for arg in shlex.split(line, comments=True)[1:]]
    for i, arg in enumerate(argv):
        if i and argv[i - 1] in ("--out", "--jsonl"):
            argv[i] = str(out / Path(arg).name)
    return argv


@pytest.mark.parametrize(("page", "line"), LIT_GPT2, ids=[line[:70] for _, line in LIT_GPT2])
def test_documented_command_runs(page, line, run_cli, tiny_export, coded_export, scripts, tmp_path, capsys):
    parse_only = next((reason for prefix, reason in PARSE_ONLY.items() if line.startswith(prefix)), None)
    model = coded_export if "--genre" in line else tiny_export
    argv = _argv(line, model, scripts, tmp_path)
    if parse_only:
        code = run_cli([*argv, "--print_config"])
    else:
        code = run_cli([*argv, *CHEAPER.get(argv[0], [])])
    assert code == 0, f"{page}: {line}\n{capsys.readouterr().err[-2000:]}"


OTHER = [(page, line) for page, line in COMMANDS if not line.startswith("lit-gpt2 ")]


@pytest.mark.parametrize(("page", "line"), OTHER, ids=[line[:70] for _, line in OTHER])
def test_other_documented_commands_name_files_that_exist(page, line):
    """Scripts, launchers and install extras: too slow or too far-reaching to run here, but they exist."""
    words = shlex.split(line, comments=True)
    paths = [w for w in words if w.startswith(("scripts/", "configs/"))]
    assert all((REPO / path).exists() for path in paths), f"{page}: {line}"
    for extra in re.findall(r"\.\[(\w+)\]", line):  # pip install -e ".[demo]"
        assert f"\n{extra} = [" in (REPO / "pyproject.toml").read_text(), f"{page}: extra {extra}"


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(REPO).as_posix() for p in PAGES])
def test_relative_links_resolve(page):
    targets = [t for t in LINK.findall(page.read_text(encoding="utf-8")) if "://" not in t]
    missing = [t for t in targets if not (page.parent / t).exists()]
    assert missing == []
