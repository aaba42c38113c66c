"""Run an elementwise kernel over cache-sized blocks of large, contiguous numpy arrays.

An in-place numpy kernel on a 10M-element parameter still makes temporaries of its full size
(``lr * d``), and a fresh 40 MB temporary costs page faults and a trip through memory. Run on
blocks of 256K elements, the temporaries stay in the CPU cache and are reused; smaller blocks
lose more to Python's per-call overhead than they gain (2**12 to 2**19 measured on the
benchmark machine: 2**18 was fastest). The math is
elementwise, so every block gives the same bits as one whole-array call.

Many small parameters (200 of 50K elements, say) are each below a block, and one call each
would leave the second core idle. Inside :func:`one_step` the calls on small arrays are
queued instead and run, at the end of the step, in contiguous shares on the worker threads:
what torch's multi-tensor ("foreach") path does for the same reason. Each parameter's kernel
still runs whole and in one thread, so the bits do not depend on the split.
"""
from __future__ import annotations

import concurrent.futures
import contextlib
import os
import threading

import numpy as np

from ..backend import get_array_module, on_device_of

BLOCK = 1 << 18  # elements per block: 1 MB of float32; measured best on 2^12..2^19 here
THREADED = 1 << 20  # from this size on, blocks are shared by threads (numpy drops the GIL)
_WORKERS = max(1, min(4, os.cpu_count() or 1))
SHARED = 1 << 17  # from this many queued elements on, a step's small calls are shared by threads
_SILENT = {"divide": "ignore", "over": "ignore", "invalid": "ignore"}
_pool = None
_queue = threading.local()  # the calls one_step() is holding back, per thread
_scratch = threading.local()  # each thread's reusable temporaries, see scratch()


def _executor():
    global _pool
    if _pool is None:  # made on first use: importing the library starts no threads
        _pool = concurrent.futures.ThreadPoolExecutor(_WORKERS, "tinygrad_optim-kernel")
    return _pool


def run_blocked(kernel, arrays, **hyper) -> None:
    """``kernel(*arrays, **hyper)`` over blocks when that is safe and useful, else at once.

    ``arrays`` may contain None (an absent state buffer); ``arrays[1]`` (the gradient) is only
    read, every other array may be written. Blocking needs C-contiguous numpy arrays of one
    size (flat views then write through to the originals); cupy arrays run as one call (the
    GPU has its own answer, fused kernels). Inside :func:`one_step`, a call on small numpy
    arrays is queued and runs when the step ends.

    Every call runs with numpy's floating-point warnings off, as torch gives inf and nan
    silently; the state is set here, per thread, because a worker thread does not inherit
    the caller's.
    """
    present = [a for a in arrays if a is not None]
    size = present[0].size
    blockable = size > BLOCK and all(
        isinstance(a, np.ndarray) and a.flags.c_contiguous and a.size == size for a in present)
    if not blockable:
        queue = getattr(_queue, "calls", None)
        if queue is not None and isinstance(present[0], np.ndarray):
            queue.append((kernel, arrays, hyper))
            return
        with on_device_of(present[0]):  # a GPU computes on the current device
            _run_calls([(kernel, arrays, hyper)])
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


def scratch(like, slot: int):
    """A temporary shaped and typed like ``like``: a kernel's ``empty_like``, reused.

    A fresh temporary of a block's size is a trip through the allocator, and glibc hands such
    sizes back to the system when they are freed, so every step paid page faults for its
    temporaries (13 200 a step for Adam on 200 parameters of 50K elements). Each thread keeps
    one buffer per ``slot`` and dtype instead, grown to the largest block it has seen; a
    kernel uses different slots for temporaries that are alive at the same time (slot 0 is
    ``_kernels.direction``'s). Arrays larger than a block get a fresh array, which is not
    kept, and so do cupy arrays (cupy's memory pool already reuses their memory).
    """
    if not isinstance(like, np.ndarray) or like.size > BLOCK:
        return get_array_module(like).empty_like(like)
    buffers = _scratch.__dict__.setdefault("buffers", {})
    key = (slot, like.dtype)
    buffer = buffers.get(key)
    if buffer is None or buffer.size < like.size:
        buffer = buffers[key] = np.empty(like.size, like.dtype)
    return buffer[:like.size].reshape(like.shape)


@contextlib.contextmanager
def one_step():
    """Hold back the small-array calls of :func:`run_blocked` and run them together at exit.

    An optimizer's ``step`` runs inside it: the kernels of different parameters are
    independent, so they can run in any order and on any thread. They are shared by threads
    when there are enough elements to pay for the hand-over, unless two calls touch the same
    memory (a parameter listed twice, say), where the order matters and they run in order.
    They also run when the step raises, as each would have run before the error in torch.
    """
    outer = getattr(_queue, "calls", None)
    _queue.calls = queue = []
    try:
        yield
    finally:
        _queue.calls = outer
        size = sum(arrays[0].size for _, arrays, _ in queue)
        if size < SHARED or _WORKERS == 1 or len(queue) < 2 or not _independent(queue):
            _run_calls(queue)
        else:
            _run_shared(queue, size)


def _run_calls(calls) -> None:
    with np.errstate(**_SILENT):
        for kernel, arrays, hyper in calls:
            kernel(*arrays, **hyper)


def _run_shared(calls, size: int) -> None:
    """The calls in ``_WORKERS`` contiguous shares of about equal size; this thread runs one."""
    shares, current, filled = [], [], 0
    for call in calls:
        current.append(call)
        filled += call[1][0].size
        if filled * _WORKERS >= size * (len(shares) + 1):
            shares.append(current)
            current = []
    if current:
        shares.append(current)
    futures = [_executor().submit(_run_calls, share) for share in shares[1:]]
    _run_calls(shares[0])
    for future in futures:
        future.result()  # re-raises a kernel's exception here


def _independent(calls) -> bool:
    """Whether no call writes memory that another call reads or writes.

    Memory is identified by the array that owns it (numpy's ``base`` of a view), which is
    cheap and errs on the safe side: two disjoint views of one buffer count as overlapping.
    """
    owners = {}  # id of the owning array -> (index of the first call using it, written?)
    for number, (_, arrays, _) in enumerate(calls):
        for position, array in enumerate(arrays):
            if array is None:
                continue
            owner = id(array if array.base is None else array.base)
            writes = position != 1  # the gradient is only read
            first = owners.get(owner)
            if first is None:
                owners[owner] = (number, writes)
            elif first[0] != number and (writes or first[1]):
                return False
            else:
                owners[owner] = (first[0], writes or first[1])
    return True
