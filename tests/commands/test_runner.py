"""Commands declared as typed functions: options from signatures, help from docstrings, lists spaced."""

import inspect

import docstring_parser
import pytest

from lit_gpt2.commands import COMMANDS
from lit_gpt2.commands.attention import attention_command
from lit_gpt2.commands.compare import compare_command
from lit_gpt2.commands.generate import generate_command
from lit_gpt2.commands.runner import join_list_values, list_options
from lit_gpt2.decoding.strategies import OVERRIDABLE

LISTS = {"--compare": True, "--heads": False}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--compare", "bert", "bart", "t5", "--out=x"], ['--compare=["bert", "bart", "t5"]', "--out=x"]),
        (["--compare=bert"], ['--compare=["bert"]']),
        (["--compare=[bert, t5]"], ["--compare=[bert, t5]"]),  # jsonargparse's own syntax passes through
        (["--compare", "bert", "--compare", "t5"], ['--compare=["bert", "t5"]']),  # repeated: collected
        (["--heads", "[0,1]", "[2,3]"], ["--heads=[[0,1], [2,3]]"]),  # non-string items as typed
        (["--compare", "a: b, c"], ['--compare=["a: b, c"]']),  # any text survives as a JSON string
        (["--model", "gpt2", "--out", "x"], ["--model", "gpt2", "--out", "x"]),  # other options untouched
    ],
)
def test_list_options_take_space_separated_and_repeated_values(args, expected):
    assert join_list_values(args, LISTS) == expected


def test_list_options_are_read_from_the_signature_with_whether_items_are_text():
    expected = {"--prompt": True, "--strategies": True, "--genres": True, "--stop": True}
    assert list_options(compare_command) == expected
    assert list_options(attention_command) == {"--heads": False}  # (layer, head) pairs


def test_boolean_options_are_read_from_the_signature_and_may_be_given_bare():
    from lit_gpt2.commands.export import export_command
    from lit_gpt2.commands.runner import bare_flags_true, bool_options

    assert bool_options(export_command) == {"--overwrite"}
    args = ["--out", "x", "--overwrite", "--ckpt_path", "c"]
    assert bare_flags_true(args, {"--overwrite"}) == ["--out", "x", "--overwrite=true", "--ckpt_path", "c"]


def test_architecture_compares_space_separated_families(run_cli, capsys):
    assert run_cli(["architecture", "--model=gpt2", "--compare", "bert", "bart", "t5"]) == 0
    printed = capsys.readouterr().out
    assert all(name in printed for name in ("BERT base", "BART large", "T5 small"))


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help_from_its_docstring_and_prints_its_config(name, run_cli, capsys):
    function = COMMANDS[name]
    assert run_cli([name, "--help"]) == 0
    help_text = capsys.readouterr().out
    assert inspect.getdoc(function).splitlines()[0][:40] in " ".join(help_text.split())
    flat_help = " ".join(help_text.split())
    described = {p.arg_name: p.description for p in docstring_parser.parse(inspect.getdoc(function)).params}
    for parameter in inspect.signature(function).parameters:
        assert f"--{parameter}" in help_text
        # Its Args line reached the help (a stray newline escape in a docstring silently drops them all).
        assert " ".join(described[parameter].split()[:4]) in flat_help, parameter
    required = [p for p in inspect.signature(function).parameters.values() if p.default is inspect.Parameter.empty]
    given = [f"--{p.name}=x" for p in required]
    assert run_cli([name, *given, "--print_config"]) == 0
    printed = capsys.readouterr().out
    assert all(f"{p.name}: x" in printed for p in required), printed


def test_generate_overrides_every_knob_a_preset_allows():
    assert set(OVERRIDABLE) <= set(inspect.signature(generate_command).parameters)
