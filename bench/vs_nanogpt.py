"""lit-gpt2's training path beside nanoGPT's own model, side by side on the same machine.

    python -m bench.vs_nanogpt [--size nanogpt-cpu|small|gpt2] [--vocab 512] [--batch-size 12] [--device cuda ...]

Runs, each in a fresh process and in rotating order over the repeats: lit-gpt2's training path with its
default switches (``ours``: GPT2LitModule and MovieScriptsDataModule under Lightning's Trainer), and
nanoGPT's ``model.py`` (imported from ``../shared/anchors/nanogpt`` or ``NANOGPT_DIR``, never copied here)
in a raw loop over the same data and order, shape, vocabulary, initial weights, AdamW groups, schedule,
clipping and precision: once as its users run it (``bias=False``), once with GPT-2's biases
(``bias=True``, the same function as ours up to GELU's tanh approximation, so the same final loss).
Writes bench/results/vs_nanogpt_<size>_<device>.{md,json}, each row's ``ours/nanoGPT``. With
``--interleaved`` the three take turns instead, each in its own process, step by step, in
``--repeats`` sittings (``bench.interleaved``), and the results go to
vs_nanogpt_interleaved_<size>_<device>.{md,json}.
"""

import argparse

from bench.common import add_run_arguments, config_from_args, write_report
from bench.interleaved import interleaved
from bench.interleaved import markdown as interleaved_markdown
from bench.train_speed import markdown, side_by_side

RUNNERS = ("ours", "nanogpt", "nanogpt-bias")
# ``ours-loop``: lit-gpt2's step without Lightning's Trainer, to see what the Trainer costs per step.
OPTIONAL = ("ours-loop",)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.vs_nanogpt", description=__doc__.split("\n\n")[0])
    add_run_arguments(parser)
    parser.add_argument("--also", nargs="*", choices=OPTIONAL, default=[], help="runners to add to the three")
    parser.add_argument(
        "--interleaved",
        action="store_true",
        help="the three taking turns, each in its own process, step by step on the same batches (bench.interleaved): "
        "steadier ratios on a busy machine; lit-gpt2's step without the Trainer; --steps counts each runner's "
        "steps, --repeats the sittings of fresh processes",
    )
    parser.set_defaults(size="nanogpt-cpu", batch_size=12, vocab=512)
    args = parser.parse_args(argv)
    cfg = config_from_args(args)
    if args.interleaved:
        report = interleaved(cfg, same_loss=("ours-loop", "nanogpt-bias"), sittings=args.repeats)
        write_report(args.out, f"vs_nanogpt_interleaved_{cfg.size}_{cfg.device}", report, interleaved_markdown(report))
        return
    # nanoGPT without biases is another function of other weights: its loss differs, so it is not compared.
    report = side_by_side(cfg, (*RUNNERS, *args.also), args.repeats, same_loss=("ours", "nanogpt-bias"))
    write_report(args.out, f"vs_nanogpt_{cfg.size}_{cfg.device}", report, markdown(report))


if __name__ == "__main__":
    main()
