"""`make bench`: run every benchmark module in turn and print its tables.

Each module listed here lives in this package and exposes `def main() -> None`.
"""

from __future__ import annotations

import importlib
import time

MODULES = [
    "bench_store",
    "bench_seed",
    "bench_api",
]


def run() -> None:
    for name in MODULES:
        module = importlib.import_module(f"{__package__}.{name}")
        print(f"=== {name} ===", flush=True)
        started = time.perf_counter()
        module.main()
        print(f"({name} took {time.perf_counter() - started:.0f} s)\n", flush=True)


if __name__ == "__main__":
    run()
