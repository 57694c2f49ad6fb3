"""`python -m bench all` or `python -m bench NAME…`: run benchmarks and print their tables.

Names: latency (1), planning (2), digest (3), delivery (4), startup (5), scaleout (6), import (7),
bundles (8), pack (10). The soak (9) runs on its own, with its own options: `python -m bench soak
--help`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import signal
import sys
import time
from types import FrameType

from bench.common import Table, machine, stop_all

#: In the order the README's Benchmarks table numbers them.
BENCHMARKS = {
    "latency": "bench.latency",
    "planning": "bench.planning",
    "digest": "bench.digest",
    "delivery": "bench.delivery",
    "startup": "bench.startup",
    "scaleout": "bench.scaleout",
    "import": "bench.plan_import",
    "bundles": "bench.bundles",
    "pack": "bench.pack",
}


def _interrupted(signum: int, _frame: FrameType | None) -> None:
    stop_all()
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args_in = sys.argv[1:] if argv is None else argv
    if args_in[:1] == ["soak"]:
        # Ten minutes against live processes, with options of its own: never part of `all`.
        from bench.soak import main as soak

        return soak(args_in[1:])
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "names",
        nargs="+",
        choices=["all", *BENCHMARKS],
        metavar="NAME",
        help="all, or any of: " + ", ".join(BENCHMARKS),
    )
    parser.add_argument(
        "--db",
        choices=("sqlite", "postgres", "both"),
        default="both",
        help="databases to run on (PostgreSQL: BENCH_PG_URL, default test_bench)",
    )
    parser.add_argument("--quick", action="store_true", help="smaller runs, to try the bench")
    parser.add_argument("-o", "--output", help="also write the tables (markdown) to this file")
    args = parser.parse_args(argv)
    names = list(BENCHMARKS) if "all" in args.names else args.names
    signal.signal(signal.SIGTERM, _interrupted)
    logging.basicConfig(level=logging.ERROR)
    header = f"Machine: {machine()}"
    print(header + "\n", flush=True)
    out = [header, ""]
    missed = 0
    try:
        for name in names:
            started = time.perf_counter()
            module = importlib.import_module(BENCHMARKS[name])
            tables: list[Table] = module.run(db=args.db, quick=args.quick)
            for table in tables:
                table.notes.append(f"benchmark took {time.perf_counter() - started:.0f} s")
                text = table.render()
                print(text, flush=True)
                out.append(text)
                missed += sum(1 for row in table.rows if row.verdict == "MISS")
    except KeyboardInterrupt:
        print("interrupted: stopping child processes", file=sys.stderr)
        return 130
    finally:
        stop_all()
        if args.output:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write("\n".join(out))
    print(f"{missed} target(s) missed" if missed else "all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
