"""What every benchmark shares: interleaved pairs, whole-process runs with their own peak RSS,
figures with their spread and goal, and the JSON file the README's table is made from.

A figure is always a pair: the thing measured (A) and its baseline (B), run alternately
(A B A B …) so that a change in the machine's load moves both, and the ratio taken per pair.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUTPUT = REPO / "build" / "bench.json"
QUICK = os.environ.get("NYHETSBREV_BENCH_QUICK") == "1"
RUNS = int(os.environ.get("NYHETSBREV_BENCH_RUNS", "5"))
HWM_ENV = "NYHETSBREV_BENCH_HWM"

# Run in front of the measured code in a fresh interpreter: at exit (SystemExit included) the
# process writes its own VmHWM (peak resident set, KiB) to the file named in HWM_ENV. Not
# ru_maxrss: Linux carries that over exec, so a child would report its big parent's peak.
# `atexit` and `os` are loaded by every interpreter at start-up, so this adds nothing to time.
WRAPPER = """import atexit as _atexit, os as _os
def _hwm(path=_os.environ["NYHETSBREV_BENCH_HWM"]):
    with open("/proc/self/status") as status:
        kib = next(line.split()[1] for line in status if line.startswith("VmHWM"))
    with open(path, "w") as out:
        out.write(kib)
_atexit.register(_hwm)
"""
CLI = "import sys\nfrom nyhetsbrev.cli import main\nsys.argv[0] = 'nyhetsbrev'\nmain()\n"
PASS = "pass\n"
# The measured interpreters keep their bytecode here, as an installed package keeps its .pyc
# files: with PYTHONDONTWRITEBYTECODE set (as in CI and some shells) every run would compile
# nyhetsbrev's own modules from source again, a cost no editor pays. The warm-up run fills it.
BYTECODE = REPO / "build" / "bench-pycache"


@dataclass
class Run:
    seconds: float
    peak_mib: float | None = None


def python_process(
    code: str, args: Sequence[str] = (), *, env: dict[str, str] | None = None,
    cwd: Path = REPO, stdout: int | None = subprocess.DEVNULL, stdin: Path | None = None,
) -> Run:  # fmt: skip
    """Run `code` (after WRAPPER) in a fresh interpreter; wall time and its own VmHWM."""
    with tempfile.NamedTemporaryFile("r", suffix=".hwm") as hwm:
        full_env = {**os.environ, **(env or {}), HWM_ENV: hwm.name}
        full_env.pop("PYTHONDONTWRITEBYTECODE", None)
        full_env.setdefault("PYTHONPYCACHEPREFIX", str(BYTECODE))
        started = time.perf_counter()
        with open(stdin or os.devnull, "rb") as source:
            done = subprocess.run(
                [sys.executable, "-c", WRAPPER + code, *args], env=full_env, cwd=cwd, stdin=source,
                stdout=stdout, stderr=subprocess.PIPE,
            )  # fmt: skip
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"{args or code[-80:]!r} failed: {done.stderr.decode()[-2000:]}")
        text = Path(hwm.name).read_text().strip()
    return Run(seconds, int(text) / 1024 if text else None)


def cli(args: Sequence[str], **kw: object) -> Run:
    """`nyhetsbrev ARGS` as an editor runs it: a fresh process (your src through PYTHONPATH)."""
    return python_process(CLI, args, **kw)  # type: ignore[arg-type]


def bare_python() -> Run:
    return python_process(PASS)


def program(command: Sequence[str], *, stdout: object = subprocess.DEVNULL) -> Run:
    """A non-Python program, e.g. the sqlite3 shell; wall time only (VmHWM polled)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=stdout, stderr=subprocess.PIPE)  # type: ignore[arg-type]
    peak = 0
    status = Path(f"/proc/{process.pid}/status")
    while process.poll() is None:
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM"):
                    peak = max(peak, int(line.split()[1]))
        except (OSError, ValueError):
            pass
        time.sleep(0.005)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"{command[0]} failed: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
    return Run(seconds, peak / 1024 if peak else None)


def in_process(action: Callable[[], object]) -> Callable[[], Run]:
    def measured() -> Run:
        started = time.perf_counter()
        action()
        return Run(time.perf_counter() - started)

    return measured


@dataclass
class Spread:
    min: float
    median: float
    max: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        return cls(min(values), statistics.median(values), max(values))


@dataclass
class Figure:
    """One measured thing next to its baseline, with the goal and whether it is met."""

    name: str
    baseline_name: str
    runs: int
    seconds: Spread
    baseline_seconds: Spread | None
    ratio: Spread | None  # per pair: A_i / B_i
    peak_mib: Spread | None = None
    baseline_peak_mib: Spread | None = None
    goal_ratio: float | None = None
    goal_seconds: float | None = None
    goal_peak_mib: float | None = None
    note: str = ""
    misses: list[str] = field(default_factory=list)

    def judge(self) -> Figure:
        self.misses = []
        if self.goal_ratio is not None and self.ratio and self.ratio.median > self.goal_ratio:
            self.misses.append(f"ratio {self.ratio.median:.2f}× > {self.goal_ratio:g}×")
        if self.goal_seconds is not None and self.seconds.median > self.goal_seconds:
            self.misses.append(f"{_time(self.seconds.median)} > {_time(self.goal_seconds)}")
        if (
            self.goal_peak_mib is not None
            and self.peak_mib is not None
            and self.peak_mib.max >= self.goal_peak_mib
        ):
            self.misses.append(f"peak {self.peak_mib.max:.0f} MiB ≥ {self.goal_peak_mib:g} MiB")
        return self

    @property
    def goal(self) -> str:
        parts = []
        if self.goal_ratio is not None:
            parts.append(f"≤ {self.goal_ratio:g}×")
        if self.goal_seconds is not None:
            parts.append(f"≤ {_time(self.goal_seconds)}")
        if self.goal_peak_mib is not None:
            parts.append(f"peak < {self.goal_peak_mib:g} MiB")
        return ", ".join(parts)

    def lines(self) -> list[str]:
        verdict = "" if not self.goal else ("  MISSED: " + "; ".join(self.misses)
                                            if self.misses else "  met")  # fmt: skip
        out = [f"{self.name}  (median of {self.runs}, min–max)"]
        out.append(f"  measured  {_spread(self.seconds)}{_memory(self.peak_mib)}")
        if self.baseline_seconds is not None:
            out.append(
                f"  baseline  {_spread(self.baseline_seconds)}{_memory(self.baseline_peak_mib)}"
                f"   [{self.baseline_name}]"
            )
        if self.ratio is not None:
            out.append(
                f"  ratio     {self.ratio.median:.2f}× ({self.ratio.min:.2f}–{self.ratio.max:.2f})"
            )
        if self.goal:
            out.append(f"  goal      {self.goal}{verdict}")
        if self.note:
            out.append(f"  note      {self.note}")
        return out


def _time(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _spread(s: Spread) -> str:
    return f"{_time(s.median):>9} ({_time(s.min)}–{_time(s.max)})"


def _memory(s: Spread | None) -> str:
    return "" if s is None else f", peak RSS {s.median:.0f} MiB ({s.min:.0f}–{s.max:.0f})"


def pair(
    name: str,
    measured: Callable[[], Run],
    baseline_name: str,
    baseline: Callable[[], Run] | None,
    *,
    runs: int = RUNS,
    warmup: bool = True,
    **goals: object,
) -> Figure:
    """Run A B A B … `runs` times (after one untimed warm-up of each), the ratio per pair."""
    if warmup:
        measured()
        if baseline is not None:
            baseline()
    a: list[Run] = []
    b: list[Run] = []
    for _ in range(runs):
        a.append(measured())
        if baseline is not None:
            b.append(baseline())
    peaks = [r.peak_mib for r in a if r.peak_mib is not None]
    base_peaks = [r.peak_mib for r in b if r.peak_mib is not None]
    return Figure(
        name=name,
        baseline_name=baseline_name,
        runs=runs,
        seconds=Spread.of([r.seconds for r in a]),
        baseline_seconds=Spread.of([r.seconds for r in b]) if b else None,
        ratio=Spread.of([x.seconds / y.seconds for x, y in zip(a, b, strict=True)]) if b else None,
        peak_mib=Spread.of(peaks) if peaks else None,
        baseline_peak_mib=Spread.of(base_peaks) if base_peaks else None,
        **goals,  # type: ignore[arg-type]
    ).judge()


@dataclass
class Report:
    """All figures of one `make bench`, written to build/bench.json for tests/bench/readme.py."""

    figures: list[Figure] = field(default_factory=list)
    notes: dict[str, list[str]] = field(default_factory=dict)
    quick: bool = QUICK

    def save(self, path: Path = OUTPUT) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "quick": self.quick,
            "machine": {"cpus": os.cpu_count(), "load": list(os.getloadavg())},
            "figures": [asdict(f) for f in self.figures],
            "notes": self.notes,
        }
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
