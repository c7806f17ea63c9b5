"""`make bench`: run every benchmark module in turn and print its figures (medians, ratios)."""

from __future__ import annotations

import importlib
import sys
import time

MODULES = ["email", "pdf", "contacts", "delivery", "web"]


def main(argv: list[str]) -> int:
    wanted = argv or MODULES
    for name in wanted:
        try:
            module = importlib.import_module(f"tests.bench.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"tests.bench.{name}":
                continue
            raise
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        for line in module.run():
            print(f"   {line}", flush=True)
        print(f"   ({time.perf_counter() - started:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
