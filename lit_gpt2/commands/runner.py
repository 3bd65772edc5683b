"""Run a project command: a typed function whose signature and ``Args:`` docstring are its options.

jsonargparse builds each command's parser from the function, as LightningCLI does for ``fit``: one
way to declare options, ``--help`` from the docstring, ``--config`` and ``--print_config`` for free,
and the same function callable from Python.
"""

import json
import sys
import types
import typing
from collections.abc import Callable, Sequence

from jsonargparse import ArgumentParser, Namespace, auto_cli


class CommandParser(ArgumentParser):
    """Also takes a list option's values space-separated, the form people type first:
    ``--compare bert bart t5`` as well as jsonargparse's ``--compare '[bert, bart, t5]'``. A list
    option given more than once collects its values (``--prompt A --prompt B``). Errors are raised
    (``exit_on_error=False``) for ``lit_gpt2.cli.main`` to print in one line, without the usage."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("exit_on_error", False)
        super().__init__(*args, **kwargs)

    def parse_args(self, args: Sequence[str] | None = None, namespace: Namespace | None = None, **kwargs):
        args = sys.argv[1:] if args is None else list(args)
        args = bare_flags_true(args, self.bool_options())
        return super().parse_args(join_list_values(args, self.list_options()), namespace, **kwargs)

    def bool_options(self) -> set[str]:
        """Each boolean option string, which may then be given bare: ``--overwrite`` for ``--overwrite=true``."""
        options = set()
        for action in self._actions:
            hint = getattr(action, "_typehint", None)
            if hint is bool or (
                typing.get_origin(hint) in (typing.Union, types.UnionType) and bool in typing.get_args(hint)
            ):
                options |= {option for option in action.option_strings if option.startswith("--")}
        return options

    def list_options(self) -> dict[str, bool]:
        """Each list-typed option string, and whether its items are plain strings."""
        options = {}
        for action in self._actions:
            item = _list_item_type(getattr(action, "_typehint", None))
            if item is not None:
                options |= {option: item is str for option in action.option_strings if option.startswith("--")}
        return options


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


def run_command(name: str, function: Callable[..., object], argv: list[str]) -> None:
    """Parse ``argv`` against ``function``'s signature and call it (``lit-gpt2 NAME ...``)."""
    auto_cli(function, args=argv, as_positional=False, parser_class=CommandParser, prog=f"lit-gpt2 {name}")
