"""Run a project command: a typed function whose signature and ``Args:`` docstring are its options.

jsonargparse builds each command's parser from the function, as LightningCLI does for ``fit``: one
way to declare options, ``--help`` from the docstring, ``--config`` and ``--print_config`` for free,
and the same function callable from Python.
"""

import inspect
import json
import types
import typing
from collections.abc import Callable

from jsonargparse import auto_cli


def bare_flags_true(args: list[str], bool_options: set[str]) -> list[str]:
    """``--flag`` with no value after it (the end, or the next ``--option``) becomes ``--flag=true``."""
    return [
        f"{token}=true" if token in bool_options and (i + 1 == len(args) or args[i + 1].startswith("--")) else token
        for i, token in enumerate(args)
    ]


def join_list_values(args: list[str], list_options: dict[str, bool]) -> list[str]:
    """Rewrite space-separated (and repeated) values of list options into one list literal each.

    Values run up to the next token that starts with ``--``. A single value that is already a list
    literal (``[a, b]``) is left for jsonargparse to parse. String items are quoted as JSON, so any
    text survives; other items (numbers, ``[0, 1]`` pairs) are written as they were typed.
    """
    collected: dict[str, list[str]] = {}
    first_at: dict[str, int] = {}
    rest: list[str] = []
    i = 0
    while i < len(args):
        token = args[i]
        option, _, inline = token.partition("=")
        if option not in list_options:
            rest.append(token)
            i += 1
            continue
        values = [inline] if "=" in token else []
        i += 1
        if "=" not in token:
            while i < len(args) and not args[i].startswith("--"):
                values.append(args[i])
                i += 1
        if len(values) == 1 and values[0].lstrip().startswith("[") and option not in collected:
            rest.append(f"{option}={values[0]}")  # already a list literal
            continue
        first_at.setdefault(option, len(rest))
        if option not in collected:
            rest.append(option)  # placeholder, replaced below
        collected.setdefault(option, []).extend(values)
    for option, values in collected.items():
        as_json = list_options[option]
        items = json.dumps(values) if as_json else "[" + ", ".join(values) + "]"
        rest[first_at[option]] = f"{option}={items}"
    return rest


def _list_item_type(typehint: object) -> type | None:
    """The item type of ``list[X]`` or ``list[X] | None``; None for anything else."""
    if typing.get_origin(typehint) in (typing.Union, types.UnionType):
        lists = [arg for arg in typing.get_args(typehint) if typing.get_origin(arg) is list]
        typehint = lists[0] if len(lists) == 1 else None
    if typing.get_origin(typehint) is list:
        (item,) = typing.get_args(typehint) or (object,)
        return item
    return None


def list_options(function: Callable[..., object]) -> dict[str, bool]:
    """Each list-typed parameter of ``function`` as its option string, and whether its items are plain strings."""
    hints = typing.get_type_hints(function)
    options = {}
    for name in inspect.signature(function).parameters:
        item = _list_item_type(hints.get(name))
        if item is not None:
            options[f"--{name}"] = item is str
    return options


def bool_options(function: Callable[..., object]) -> set[str]:
    """Each boolean parameter of ``function`` as its option string, which may then be given bare:
    ``--overwrite`` for ``--overwrite=true``."""
    hints = typing.get_type_hints(function)
    return {
        f"--{name}"
        for name in inspect.signature(function).parameters
        if hints.get(name) is bool or bool in typing.get_args(hints.get(name))
    }


def run_command(name: str, function: Callable[..., object], argv: list[str]) -> None:
    """Parse ``argv`` against ``function``'s signature and call it (``lit-gpt2 NAME ...``).

    A list option also takes its values space-separated, the form people type first: ``--compare bert
    bart t5`` as well as jsonargparse's ``--compare '[bert, bart, t5]'``; given more than once, it
    collects its values (``--prompt A --prompt B``).
    """
    args = join_list_values(bare_flags_true(list(argv), bool_options(function)), list_options(function))
    # Errors are raised, for lit_gpt2.cli.main to print in one line without the usage.
    auto_cli(function, args=args, as_positional=False, prog=f"lit-gpt2 {name}", exit_on_error=False)
