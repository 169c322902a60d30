"""`make bench`: run every benchmark module in turn and print its tables.

Each module listed here lives in this package and exposes `def main() -> None`.
"""

from __future__ import annotations

import importlib
import sys
import time
import traceback

MODULES = [
    "bench_store",
    "bench_seed",
    "bench_api",
    "bench_feeds",
    "bench_load",
    "bench_widget",
    "bench_extract",
]


def run() -> int:
    """Run every module; one that crashes is reported and the others still run."""
    failed: list[str] = []
    for name in MODULES:
        print(f"=== {name} ===", flush=True)
        started = time.perf_counter()
        try:
            importlib.import_module(f"{__package__}.{name}").main()
        except Exception:
            traceback.print_exc()
            failed.append(name)
        print(f"({name} took {time.perf_counter() - started:.0f} s)\n", flush=True)
    if failed:
        print(f"benchmarks that crashed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(run())
