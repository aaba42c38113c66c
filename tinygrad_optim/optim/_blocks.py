"""Run an elementwise kernel over cache-sized blocks of large, contiguous numpy arrays.

An in-place numpy kernel on a 10M-element parameter still makes temporaries of its full size
(``lr * d``), and a fresh 40 MB temporary costs page faults and a trip through memory. Run on
blocks of 256K elements, the temporaries stay in the CPU cache and are reused; smaller blocks
lose more to Python's per-call overhead than they gain (2**12 to 2**19 measured on the
benchmark machine: 2**18 was fastest). The math is
elementwise, so every block gives the same bits as one whole-array call.
"""
from __future__ import annotations

import concurrent.futures
import os

import numpy as np

BLOCK = 1 << 18  # elements per block: 1 MB of float32; measured best on 2^12..2^19 here
THREADED = 1 << 20  # from this size on, blocks are shared by threads (numpy drops the GIL)
_WORKERS = max(1, min(4, os.cpu_count() or 1))
_SILENT = {"divide": "ignore", "over": "ignore", "invalid": "ignore"}
_pool = None


def _executor():
    global _pool
    if _pool is None:  # made on first use: importing the library starts no threads
        _pool = concurrent.futures.ThreadPoolExecutor(_WORKERS, "tinygrad_optim-kernel")
    return _pool


def run_blocked(kernel, arrays, **hyper) -> None:
    """``kernel(*arrays, **hyper)`` over blocks when that is safe and useful, else at once.

    ``arrays`` may contain None (an absent state buffer). Blocking needs C-contiguous numpy
    arrays of one size (flat views then write through to the originals); cupy arrays run as
    one call (the GPU has its own answer, fused kernels).

    Every call runs with numpy's floating-point warnings off, as torch gives inf and nan
    silently; the state is set here, per thread, because a worker thread does not inherit
    the caller's.
    """
    present = [a for a in arrays if a is not None]
    size = present[0].size
    blockable = size > BLOCK and all(
        isinstance(a, np.ndarray) and a.flags.c_contiguous and a.size == size for a in present)
    if not blockable:
        with np.errstate(**_SILENT):
            kernel(*arrays, **hyper)
        return
    flat = [None if a is None else a.reshape(-1) for a in arrays]

    def run(first: int, last: int) -> None:
        with np.errstate(**_SILENT):
            for start in range(first, last, BLOCK):
                end = min(start + BLOCK, last)
                kernel(*[None if a is None else a[start:end] for a in flat], **hyper)

    if size < THREADED or _WORKERS == 1:
        run(0, size)
        return
    # One contiguous share of whole blocks per thread; the shares never overlap.
    share = -(-size // (_WORKERS * BLOCK)) * BLOCK
    futures = [_executor().submit(run, lo, min(lo + share, size))
               for lo in range(0, size, share)]
    for future in futures:
        future.result()  # re-raises a kernel's exception here
