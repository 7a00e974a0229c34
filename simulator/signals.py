"""Hold SIGINT and SIGTERM over a short block that must not be interrupted, then take them.

dcsim turns SIGTERM (and Ctrl-C) into an exception that unwinds a run: locks released,
temporaries removed.  Raised inside a callback from native code (numba's JIT loading its
kernels) or inside the interpreter's own fork handlers, that exception cannot propagate
and is printed as an ignored exception with a traceback.  A signal mask cannot prevent it:
masks are per thread, and numpy's BLAS threads take the signal for the process.  So the
block runs with Python handlers that only note the signal; it is raised again, to the
handlers the process had, as soon as the block ends.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

HELD = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def held() -> Iterator[None]:
    """Run the block with SIGINT and SIGTERM noted, not handled; then raise the first that
    came to the handlers of before.  Outside the main thread (where Python handles no
    signal) the block simply runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    before = {sig: signal.signal(sig, lambda sig, frame: pending.append(sig)) for sig in HELD}
    try:
        yield
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)
        if pending:
            signal.raise_signal(pending[0])
