"""`make bench`: every benchmark module in turn; each figure with its baseline, spread and goal.

`python -m tests.bench [--quick] [module ...]`. The figures go to build/bench.json as well, from
which `python -m tests.bench.readme` regenerates the README's table.
"""

from __future__ import annotations

import importlib
import os
import sys
import time

MODULES = ["startup", "email", "scaling", "pdf", "contacts", "delivery", "bounces", "web"]


def main(argv: list[str]) -> int:
    if "--quick" in argv:
        argv = [a for a in argv if a != "--quick"]
        os.environ["NYHETSBREV_BENCH_QUICK"] = "1"
    from tests.bench.harness import Figure, Report

    report = Report()
    wanted = argv or MODULES
    began = time.perf_counter()
    for name in wanted:
        module = importlib.import_module(f"tests.bench.{name}")
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        notes = report.notes.setdefault(name, [])
        for item in module.run():
            if isinstance(item, Figure):
                report.figures.append(item)
                lines = item.lines()
            else:
                notes.append(item)
                lines = [item]
            for line in lines:
                print(f"   {line}", flush=True)
        print(f"   ({time.perf_counter() - started:.1f} s)", flush=True)
    report.save()
    missed = [f for f in report.figures if f.misses]
    print(f"== summary ({time.perf_counter() - began:.0f} s; figures in build/bench.json)")
    for figure in report.figures:
        if figure.goal:
            verdict = "MISSED " + "; ".join(figure.misses) if figure.misses else "met"
            print(f"   {verdict:<40} {figure.name} (goal {figure.goal})")
    print(f"   {len(missed)} of {sum(1 for f in report.figures if f.goal)} goals missed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
