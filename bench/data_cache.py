"""Data setup time, first run (tokenize and pack) against second run (read the cache), side by side.

    python -m bench.data_cache [--copies 20]

The embedded corpus is copied ``copies`` times into a temporary folder (each copy a distinct set of
scripts) to stand in for a real movie-scripts folder.
"""

import argparse
import tempfile
import time
from pathlib import Path

from lit_gpt2.data.datamodule import MovieScriptsDataModule
from lit_gpt2.data.sources import embedded_corpus_files


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.data_cache")
    parser.add_argument("--copies", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        scripts = Path(tmp) / "scripts"
        scripts.mkdir()
        for copy in range(args.copies):
            for scene in embedded_corpus_files():
                (scripts / f"{copy:03d}-{scene.parent.name}-{scene.name}").write_text(
                    f"COPY {copy}\n" + scene.read_text()
                )
        times = []
        for _ in range(2):
            data = MovieScriptsDataModule(source=str(scripts), block_size=256, cache_dir=str(Path(tmp) / "cache"))
            start = time.perf_counter()
            data.setup("fit")
            times.append(time.perf_counter() - start)
        size = sum(p.stat().st_size for p in scripts.iterdir()) / 2**20
    print("| corpus | first setup (tokenize) | second setup (cache) | ratio |\n|---|---|---|---|")
    corpus = f"{args.copies * len(embedded_corpus_files())} scripts, {size:.1f} MiB"
    print(f"| {corpus} | {times[0]:.2f} s | {times[1]:.2f} s | {times[0] / times[1]:.1f}x |")


if __name__ == "__main__":
    main()
