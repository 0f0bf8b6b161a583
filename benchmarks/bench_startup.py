"""Benchmark: start-up. `pingen --help` within 0.1 s; the import time of `pingen verify`;
a whole-process `pingen verify` of a few loopback endpoints. Run by hand (on a quiet
machine: note `uptime` beside the figures), never as a timed test:

    python benchmarks/bench_startup.py [--repeat 15] [--endpoints 20] [--pingen DIR]

`--pingen DIR` times another checkout's package folder (its gen/) instead of the
installed one, to compare before and after a change on the same machine. Every child
runs from compiled bytecode (a cache under a temporary folder, filled by a warm-up run),
as an installed pingen does. Each figure is the best of --repeat runs; the import time
is `python -X importtime`'s sum over the modules `pingen verify --help` imports (the
interpreter's own start-up modules excluded).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_verify import host_name, serve, write_pins_yaml  # noqa: E402

HELP_BUDGET = 0.1  # seconds, whole process
HEAVY = ("cryptography", "jinja2", "yaml", "asyncio", "ssl", "certifi", "idna")


def child_env(folder: Path, pingen: Path | None) -> dict[str, str]:
    """PYTHONPATH: the repository (for tests.support) and, with --pingen, a folder whose
    `pingen` is a link to that checkout's gen/."""
    paths = [str(REPO)]
    if pingen is not None:
        link = folder / "other" / "pingen"
        link.parent.mkdir(exist_ok=True)
        link.symlink_to(pingen.resolve())
        paths.insert(0, str(link.parent))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(paths),
        "PYTHONPYCACHEPREFIX": str(folder / "pycache"),
    }
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def best(run: Callable[[], object], repeat: int) -> float:
    run()  # warm up: the bytecode cache
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def pingen(args: Sequence[str], env: dict[str, str], cwd: Path) -> Callable[[], object]:
    def run() -> object:
        done = subprocess.run(
            [sys.executable, "-m", "pingen", *args], env=env, cwd=cwd, capture_output=True
        )
        assert done.returncode == 0, done.stderr.decode()
        return done

    return run


def import_time(args: Sequence[str], env: dict[str, str], cwd: Path, repeat: int) -> float:
    """Seconds `python -X importtime -m pingen ARGS` spends importing beyond what a bare
    `python -c pass` imports (best of `repeat`)."""

    def imported(command: list[str]) -> dict[str, int]:
        done = subprocess.run(
            [sys.executable, "-X", "importtime", *command],
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
        )
        found: dict[str, int] = {}
        for line in done.stderr.splitlines():
            if not line.startswith("import time:") or "cumulative" in line:
                continue
            self_us, _, name = line.removeprefix("import time:").split("|", 2)
            found[name.strip()] = int(self_us)
        return found

    bare = set(imported(["-c", "pass"]))
    totals = []
    for _ in range(repeat + 1):
        found = imported(["-m", "pingen", *args])
        totals.append(sum(us for name, us in found.items() if name not in bare))
    return min(totals[1:]) / 1e6


def heavy_modules(args: Sequence[str], env: dict[str, str], cwd: Path) -> str:
    """The heavy modules `pingen ARGS` imports (beyond the interpreter's start-up)."""
    code = (
        "import sys\nbefore = set(sys.modules)\nfrom pingen.cli import main\n"
        f"try:\n    main({list(args)!r})\nexcept SystemExit:\n    pass\n"
        "loaded = {m.split('.')[0] for m in set(sys.modules) - before}\n"
        f"print(sorted(loaded & {set(HEAVY)!r}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True
    )
    return done.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--endpoints", type=int, default=20)
    parser.add_argument("--pingen", type=Path, help="another checkout's gen/ folder")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        env = child_env(folder, options.pingen)
        where = subprocess.run(
            [sys.executable, "-c", "import pingen; print(pingen.__file__)"],
            env=env,
            capture_output=True,
            text=True,
        ).stdout.strip()
        print(f"pingen from {where}")
        help_time = best(pingen(["--help"], env, folder), options.repeat)
        verdict = "ok" if help_time < HELP_BUDGET else "OVER BUDGET"
        print(f"pingen --help              {help_time:.3f} s  (budget {HELP_BUDGET} s: {verdict})")
        print(f"  heavy modules imported:  {heavy_modules(['--help'], env, folder)}")
        imports = import_time(["verify", "--help"], env, folder, options.repeat)
        print(f"pingen verify --help       imports {imports:.3f} s")
        print(f"  heavy modules imported:  {heavy_modules(['verify', '--help'], env, folder)}")
        verify_time, verify_imports = whole_process_verify(
            folder, env, options.endpoints, options.repeat
        )
        print(
            f"pingen verify ({options.endpoints} endpoints)  {verify_time:.3f} s whole process, "
            f"imports {verify_imports:.3f} s"
        )


def whole_process_verify(
    folder: Path, env: dict[str, str], endpoints: int, repeat: int
) -> tuple[float, float]:
    """`pingen verify --format json` of `endpoints` loopback names, from interpreter start:
    the seconds it takes and the seconds it spends importing."""
    mine, theirs = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(endpoints, str(folder), theirs))
    server.start()
    try:
        port, _, root_pin = mine.recv()
        names = [(host_name(i), port) for i in range(endpoints)]
        pins = write_pins_yaml(folder, names, root_pin)
        args = ["verify", "-c", str(pins), "--format", "json"]
        return best(pingen(args, env, folder), repeat), import_time(args, env, folder, repeat)
    finally:
        mine.send("stop")
        server.join()


if __name__ == "__main__":
    main()
