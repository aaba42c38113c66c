"""LBFGS's strong-Wolfe line search: bracketing, then zooming with cubic interpolation.

It decides on host scalars (losses, slopes, step lengths), the one documented place where the
optimizers read values back from the device.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..backend import get_array_module, to_numpy


def strong_wolfe(evaluate: Callable, t, d, f: float, g, gtd, c1: float = 1e-4,
                 c2: float = 0.9, tolerance_change: float = 1e-9, max_ls: int = 25) -> tuple:
    """A step length along ``d`` that meets the strong Wolfe conditions, as far as it can.

    ``evaluate(t)`` gives the loss (a float) and flat gradient at ``x + t * d``; ``f, g,
    gtd`` are those and the slope (a host scalar in the parameters' dtype) at ``t = 0``.
    Zooming stops when the bracket moves the point less than ``tolerance_change`` (torch
    passes 1e-9, not the optimizer's). Returns ``(f, g, t, evaluations)`` of the best point.
    """
    search = _Search(evaluate, d, f, gtd, c1, c2, max_ls)
    bracket, done = search.bracket(t, g)
    return search.zoom(bracket, done, tolerance_change, host(max_abs(d)))


@dataclass
class _Search:
    """One line search: the objective along ``d``, its value and slope at 0, and a counter.

    Points are ``(t, f, g, gtd)`` tuples; loss values are floats and slopes host scalars in
    the parameters' dtype, so comparisons round as torch's 0-d tensors do."""

    evaluate: Callable
    d: object
    f: float
    gtd: object
    c1: float
    c2: float
    max_ls: int
    iterations: int = 0
    evaluations: int = 0

    def point(self, t) -> tuple:
        f_new, g_new = self.evaluate(t)
        self.evaluations += 1
        return t, f_new, g_new, host(dot(g_new, self.d))

    def armijo_fails(self, t, f_new: float) -> bool:
        return f_new > self.f + self.c1 * t * self.gtd

    def bracket(self, t, g) -> tuple:
        """Extrapolate until an interval holds an acceptable step; ``(points, done)``."""
        prev, new = (0, self.f, g, self.gtd), self.point(t)
        while self.iterations < self.max_ls:
            t, f_new, _, gtd_new = new
            if self.armijo_fails(t, f_new) or (self.iterations > 1 and f_new >= prev[1]):
                return [prev, new], False
            if abs(gtd_new) <= -self.c2 * self.gtd:
                return [new], True
            if gtd_new >= 0:
                return [prev, new], False
            bounds = (t + 0.01 * (t - prev[0]), t * 10)  # grow the step at least 1 %
            t_next = cubic_interpolate(prev[0], prev[1], prev[3], t, f_new, gtd_new, bounds)
            prev, new = new, self.point(t_next)
            self.iterations += 1
        # Out of evaluations: the interval from 0 to the last trial (the zoom cannot run).
        return [(0, self.f, g, self.gtd), new], False

    def zoom(self, bracket: list, done: bool, tolerance_change: float, d_norm) -> tuple:
        """Shrink the bracket by cubic interpolation to a point meeting both conditions."""
        insufficient = False
        low, high = (0, 1) if bracket[0][1] <= bracket[-1][1] else (1, 0)
        while not done and self.iterations < self.max_ls:
            (t_a, f_a, _, gtd_a), (t_b, f_b, _, gtd_b) = bracket
            if abs(t_b - t_a) * d_norm < tolerance_change:
                break  # the bracket is too small to move the point
            t = cubic_interpolate(t_a, f_a, gtd_a, t_b, f_b, gtd_b)
            t, insufficient = _away_from_ends(t, max(t_a, t_b), min(t_a, t_b), insufficient)
            new = self.point(t)
            self.iterations += 1
            if self.armijo_fails(t, new[1]) or new[1] >= bracket[low][1]:
                bracket[high] = new  # a worse point closes the bracket from above
                low, high = (0, 1) if bracket[0][1] <= bracket[1][1] else (1, 0)
                continue
            if abs(new[3]) <= -self.c2 * self.gtd:
                done = True
            elif new[3] * (bracket[high][0] - bracket[low][0]) >= 0:
                bracket[high] = bracket[low]  # the minimum lies on the other side of new
            bracket[low] = new
        t, f_new, g_new, _ = bracket[low]
        return f_new, g_new, t, self.evaluations


def _away_from_ends(t, top, bottom, insufficient: bool) -> tuple:
    """Keep a zoom trial a tenth of the bracket away from its ends when progress stalls.

    A trial that lands in the outer tenth is accepted once; a second one in a row, or one on
    or beyond an end, is moved to a tenth of the bracket from the nearer end."""
    margin = 0.1 * (top - bottom)
    if not min(top - t, t - bottom) < margin:
        return t, False
    if insufficient or t >= top or t <= bottom:
        t = top - margin if abs(t - top) < abs(t - bottom) else bottom + margin
        return t, False
    return t, True


def cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds: tuple | None = None):
    """The minimiser of the cubic through ``(x1, f1)``, ``(x2, f2)`` with slopes ``g1, g2``.

    Clamped to ``bounds`` (the interval between the two points by default); the middle of
    the bounds when the cubic has no minimiser."""
    low, high = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square >= 0:
        d2 = np.sqrt(d2_square)
        if x1 <= x2:
            minimum = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            minimum = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(minimum, low), high)
    return (low + high) / 2.0


def dot(a, b):
    """``a · b`` as a 0-d value in the arrays' dtype (stays on the device)."""
    return get_array_module(a).dot(a, b)


def max_abs(a):
    return get_array_module(a).abs(a).max()


def host(value):
    """A 0-d array or numpy scalar as a numpy scalar of its dtype (a sync on a GPU)."""
    if type(value) in (int, float):
        return value
    return np.asarray(to_numpy(value) if hasattr(value, "get") else value)[()]
