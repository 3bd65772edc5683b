"""Data preparation at scale: wall time and peak memory against corpus size, and a tokenizer-only floor.

    python -m bench.data_scale [--sizes 10 100 1000] [--block-size 1024] [--out bench/results/data_scale_cpu.md]

For each size (MB) a folder of screenplay-sized files is generated from the embedded corpus (scenes
drawn at random, numbered and renamed so no two files are alike) in a temporary folder, deleted after.
Each measurement runs in its own process:

- prepare: ``MovieScriptsDataModule(source=folder, block_size=...).prepare_data()`` on an empty cache;
  peak resident memory of the main process and of the largest tokenizing worker (``ru_maxrss``).
- cached setup: the same again on the built cache (stat key, memory-mapped read).
- floor: the same normalised text through ``tokenizers``' ``encode_batch`` on all cores, tokenizer
  time only (reading and normalising are not counted, writing is not done): no pipeline can beat it.
- batch read: mean time to draw one training batch from the memory-mapped blocks.
"""

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lit_gpt2.data.sources import embedded_corpus_files

SCRIPT_BYTES = 80_000  # about a feature screenplay after normalisation
NAMES = ["ADA", "BORIS", "CLEO", "DMITRI", "ESME", "FARID", "GRETA", "HUGO", "INES", "JONAH", "KIRA", "LUKE"]


def generate(folder: Path, megabytes: int, seed: int = 0) -> int:
    """Write ``megabytes`` MB of distinct screenplay files into ``folder``; returns the file count."""
    rng = random.Random(seed)
    scenes = [path.read_text() for path in embedded_corpus_files()]
    target, written, count = megabytes * 10**6, 0, 0
    while written < target:
        parts, size = [f"SCRIPT {count}\n\n"], 0
        while size < SCRIPT_BYTES:
            scene = rng.choice(scenes).replace("INT.", f"INT. ({rng.randrange(10**6)})", 1)
            for name in rng.sample(NAMES, 2):  # vary who speaks, so words and counts differ
                scene = scene.replace(rng.choice(NAMES), name)
            parts.append(scene)
            size += len(scene)
        text = "\n".join(parts)
        (folder / f"{count // 1000:03d}" / f"{count:06d}.txt").parent.mkdir(exist_ok=True)
        (folder / f"{count // 1000:03d}" / f"{count:06d}.txt").write_text(text)
        written += len(text.encode())
        count += 1
    return count


def child(task: str, source: str, cache: str, block_size: int) -> dict:
    """One measurement, in this (fresh) process."""
    start = time.perf_counter()
    result: dict = {}
    if task in ("prepare", "cached"):
        from lit_gpt2.data.datamodule import MovieScriptsDataModule

        data = MovieScriptsDataModule(source=source, block_size=block_size, cache_dir=cache)
        data.prepare_data()
        result["tokens"] = sum(len(split) * block_size for split in data.splits.values())
        result["bytes_on_disk"] = sum(p.stat().st_size for p in Path(cache).rglob("*.bin"))
        if task == "cached":
            loader = data.train_dataloader()
            tick, drawn = time.perf_counter(), 0
            while drawn < 200:
                for _ in loader:
                    drawn += 1
            result["batch_ms"] = (time.perf_counter() - tick) / drawn * 1000
    elif task == "floor":
        from lit_gpt2.data.screenplay import normalise_screenplay
        from lit_gpt2.data.sources import read_script, text_files
        from lit_gpt2.modeling import load_tokenizer

        tokenizer = load_tokenizer("gpt2").backend_tokenizer
        files, spent, tokens, batch = text_files(source), 0.0, 0, []
        for i, file in enumerate(files):
            batch.append(normalise_screenplay(read_script(file)[0]))
            if len(batch) == 50 or i == len(files) - 1:
                tick = time.perf_counter()
                tokens += sum(len(e.ids) for e in tokenizer.encode_batch(batch))
                spent += time.perf_counter() - tick
                batch = []
        result.update(tokens=tokens, floor_s=spent)
    result["wall_s"] = time.perf_counter() - start
    result["rss_main_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["rss_worker_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return result


def run_child(task: str, source: Path, cache: Path, block_size: int) -> dict:
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "true" if task == "floor" else "false"}
    out = subprocess.run(
        [sys.executable, "-m", "bench.data_scale", "--child", task, str(source), str(cache), str(block_size)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1].removeprefix("RESULT "))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print("RESULT " + json.dumps(child(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))))
        return
    parser = argparse.ArgumentParser(prog="python -m bench.data_scale")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000], help="corpus sizes in MB")
    parser.add_argument("--block-size", type=int, default=1024)
    parser.add_argument("--out", type=Path, default=Path("bench/results/data_scale_cpu.md"))
    parser.add_argument("--note", default="", help="a line added under the table (e.g. that the machine was shared)")
    args = parser.parse_args()
    rows = [
        "| corpus | files | tokens | prepare | floor (tokenizers, all cores) | ratio | s per 100 MB "
        "| peak RSS main / worker | on disk | cached setup | batch read |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for megabytes in args.sizes:
        with tempfile.TemporaryDirectory(prefix="lit-gpt2-data-scale-") as tmp:
            scripts, cache = Path(tmp) / "scripts", Path(tmp) / "cache"
            scripts.mkdir()
            n_files = generate(scripts, megabytes)
            prepared = run_child("prepare", scripts, cache, args.block_size)
            cached = run_child("cached", scripts, cache, args.block_size)
            shutil.rmtree(cache)
            floor = run_child("floor", scripts, cache, args.block_size)
        ratio = prepared["wall_s"] / floor["floor_s"]
        rows.append(
            f"| {megabytes} MB | {n_files:,} | {prepared['tokens'] / 1e6:.1f} M | {prepared['wall_s']:.1f} s "
            f"| {floor['floor_s']:.1f} s | {ratio:.2f}x | {prepared['wall_s'] / megabytes * 100:.1f} s "
            f"| {prepared['rss_main_mb']:,.0f} / {prepared['rss_worker_mb']:,.0f} MB "
            f"| {prepared['bytes_on_disk'] / 2**20:,.0f} MiB | {cached['wall_s']:.2f} s | {cached['batch_ms']:.2f} ms |"
        )
        print(rows[-1], flush=True)
    cores = len(os.sched_getaffinity(0))
    text = "\n".join(
        [
            f"# Data preparation at scale (`python -m bench.data_scale --sizes {' '.join(map(str, args.sizes))}`)",
            "",
            f"CPU, {cores} cores, block size {args.block_size}, GPT-2 tokenizer, default `num_proc` (one per core).",
            "Tokens: the blocks kept (train, validation, test). Floor: `tokenizers` `encode_batch` on the same "
            "normalised text, tokenizer time only. Peak RSS: `ru_maxrss` of the main process and of the largest "
            "tokenizing worker. Batch read: one training batch of 8 blocks from the memory-mapped cache.",
            "",
            *rows,
            *(["", args.note] if args.note else []),
            "",
        ]
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
