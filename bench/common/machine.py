"""A short description of the machine a benchmark ran on, for the record in docs/benchmarks.md."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime


def _lscpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return platform.processor() or "unknown"
    for line in out.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def _memory_gib() -> float:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return 0.0


def describe(postgres_version: str) -> dict[str, str]:
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": str(os.cpu_count()),
        "cpu_model": _lscpu_model(),
        "memory_gib": str(_memory_gib()),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "postgresql": postgres_version,
    }


def _cpu_times() -> tuple[int, int]:
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields), idle


def cpu_busy(seconds: float = 3.0) -> float:
    """Share of all cores' time spent busy over the next ``seconds`` (0.0 to 1.0)."""
    import time

    total0, idle0 = _cpu_times()
    time.sleep(seconds)
    total1, idle1 = _cpu_times()
    return 1.0 - (idle1 - idle0) / max(1, total1 - total0)


def wait_until_quiet(*, threshold: float = 0.15, timeout: float = 90.0) -> float:
    """Wait (up to ``timeout``) until the machine is nearly idle; returns the last busy share measured."""
    import time

    deadline = time.monotonic() + timeout
    busy = cpu_busy()
    while busy > threshold and time.monotonic() < deadline:
        busy = cpu_busy()
    return busy


class OtherCpu:
    """How much CPU processes other than the benchmark's own used while a scenario ran.

    The benchmark's own processes are this one, its descendants (the server) and the PostgreSQL backends
    serving the bench database (their process title names it). Everything else, including other databases'
    backends, counts as other. Processes that start and end within one scenario are missed, so this is a lower
    bound; it is enough to tell a quiet run from one that shared the machine.
    """

    def __init__(self, dbname: str):
        self.dbname = dbname
        self.ticks_per_second = os.sysconf("SC_CLK_TCK")
        self._start: dict[int, int] = {}
        self._started_at = 0.0

    def _snapshot(self) -> dict[int, int]:
        own = self._own_pids()
        out = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) in own:
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if f" {self.dbname} ".encode() in f.read().replace(b"\0", b" ") + b" ":
                        continue
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                out[int(entry)] = int(fields[11]) + int(fields[12])  # utime + stime
            except (OSError, IndexError, ValueError):
                continue
        return out

    @staticmethod
    def _own_pids() -> set[int]:
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
        own, todo = set(), [os.getpid()]
        while todo:
            pid = todo.pop()
            own.add(pid)
            todo.extend(children.get(pid, []))
        return own

    def start(self) -> None:
        import time

        self._start = self._snapshot()
        self._started_at = time.monotonic()

    def share(self) -> float:
        """Others' CPU since start() as a share of all cores (0.0 to 1.0)."""
        import time

        elapsed = time.monotonic() - self._started_at
        end = self._snapshot()
        ticks = sum(t - self._start.get(pid, 0) for pid, t in end.items() if t >= self._start.get(pid, 0))
        return ticks / self.ticks_per_second / max(elapsed, 1e-6) / (os.cpu_count() or 1)
