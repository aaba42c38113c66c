"""Where torch's elementwise rules differ from numpy's, torch's rule, written once.

The operations and the optimizer kernels call these instead of the numpy (or cupy) function of
the same name, so that a tensor computes what torch computes.
"""
from __future__ import annotations


def sign(xp, x, out=None):
    """torch's ``sign``: numpy's, except that NaN gives 0 (numpy gives NaN).

    It matters beyond the op itself: Rprop multiplies its steps by the sign of ``g·prev``, so
    with numpy's rule one NaN gradient would make the parameter NaN for good, where torch
    leaves it where it is.

    Args:
        xp: numpy or cupy.
        x: the array.
        out: where to write (may be ``x`` itself); a new array when None.
    """
    result = xp.sign(x, out=out)
    if result.dtype.kind != "f":
        return result
    nan = xp.isnan(result)
    if out is None:  # a 0-d input gives a numpy scalar: where() makes it a 0-d array again
        return xp.where(nan, 0, result)
    xp.copyto(out, 0, where=nan)
    return out
