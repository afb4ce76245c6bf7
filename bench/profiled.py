"""Runs a service under cProfile: `python -m bench.profiled services.<name> OUT.prof`.

`python -m bench --profile` starts every service this way; the statistics are written when
the service stops (uvicorn returns after SIGTERM), then summarised as text beside them
(`summarise_profiles` in `bench/__main__.py`).
"""

from __future__ import annotations

import cProfile
import runpy
import signal
import sys
import time


def main() -> None:
    module, out = sys.argv[1], sys.argv[2]
    sys.argv = [module]
    # uvicorn re-raises the SIGTERM it handled once it has shut down; exiting through
    # SystemExit instead lets the statistics be written.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # CPU time, not wall time: a coroutine awaiting the database or the broker would
    # otherwise be charged for the wait (asyncpg's execute looked like a fifth of the time).
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    finally:
        profiler.disable()
        profiler.dump_stats(out)


if __name__ == "__main__":
    main()
