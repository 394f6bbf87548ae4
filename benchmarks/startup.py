"""How fast the command line answers: ``digest --version`` and ``digest --help``.

    python benchmarks/startup.py [--runs 15]

Each figure is the median wall time of ``--runs`` fresh interpreters running the command,
interleaved with the baseline: the same command after importing every command's module (and
so every stage), as the command line did before it loaded a command's module only when that
command runs. The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

from digest.cli import COMMANDS

EAGER = "; ".join(
    f"import digest.commands.{m}" for m in sorted({m for m, _, _ in COMMANDS.values()})
)
LAZY = "from digest.cli import main; main()"


def seconds(code: str, argument: str) -> float:
    began = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, argument], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    figures: dict[str, float] = {}
    for argument in ("--version", "--help"):
        lazy: list[float] = []
        eager: list[float] = []
        for _ in range(runs):  # interleaved: a busy moment costs both alike
            lazy.append(seconds(LAZY, argument))
            eager.append(seconds(f"{EAGER}; {LAZY}", argument))
        name = argument.strip("-")
        figures[f"{name}_s"] = round(statistics.median(lazy), 3)
        figures[f"{name}_baseline_s"] = round(statistics.median(eager), 3)
        figures[f"{name}_ratio"] = round(statistics.median(eager) / statistics.median(lazy), 1)
        print(
            f"digest {argument}: {figures[f'{name}_s']:.3f} s median of {runs}; with every "
            f"command imported first: {figures[f'{name}_baseline_s']:.3f} s "
            f"({figures[f'{name}_ratio']}x)"
        )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
