"""The test functions of the optimizer race: five surfaces in the plane, each with its minima.

Each function is written once, with ``+``, ``-``, ``*`` and ``**`` only, so that the same
expression runs on tinygrad_optim tensors (for the race, with autograd) and on numpy arrays
(for the contour grid of the figures): what is drawn is exactly what is optimized.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = ["Problem", "PROBLEMS"]


@dataclass(frozen=True)
class Problem:
    """A function of two variables to minimize, with what the race needs to know about it.

    Attributes:
        name: the command-line name (``rosenbrock``).
        title: the name in tables and figure titles (``Rosenbrock``).
        formula: the function in plain text, for titles.
        f: ``f(x, y)``, for tensors and numpy arrays alike.
        minima: the global minimizers, as ``(x, y)`` pairs.
        f_min: the minimum value.
        start: where every optimizer starts.
        box: the region drawn, ``(x_lo, x_hi, y_lo, y_hi)``.
        steps: the default number of steps, enough for the good optimizers to converge.
        lesson: one line on what the function shows.
        saddles: its saddle points, if any, where the gradient vanishes too.
    """

    name: str
    title: str
    formula: str
    f: Callable
    minima: tuple
    f_min: float
    start: tuple
    box: tuple
    steps: int
    lesson: str
    saddles: tuple = ()

    def value(self, point):
        """``f`` at a 2-element tensor (or array) ``point``."""
        return self.f(point[0], point[1])

    def grid(self, n: int = 300):
        """``(X, Y, Z)``: ``f`` on an ``n`` by ``n`` grid over ``box``, as numpy float64."""
        x_lo, x_hi, y_lo, y_hi = self.box
        x, y = np.meshgrid(np.linspace(x_lo, x_hi, n), np.linspace(y_lo, y_hi, n))
        return x, y, self.f(x, y)


# The bowls have their minimum at (1, 1), not at the origin: weight decay pulls towards the
# origin, and a minimum there would hand AdamW and ASGD a head start no real model gives them.
def _quadratic(x, y):
    return 0.5 * (x - 1) ** 2 + 2 * (y - 1) ** 2


# A bowl with curvatures 1 and 100, turned by 45 degrees: the narrow axis runs across the
# diagonal, so no per-coordinate step size (Adagrad, RMSprop, Adam, Rprop) can undo the
# stretch as it could for an axis-aligned one.
_UNIT = 1 / math.sqrt(2)


def _ill_conditioned(x, y):
    return 0.5 * ((x + y - 2) * _UNIT) ** 2 + 50 * ((x - y) * _UNIT) ** 2


def _rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


def _beale(x, y):
    return ((1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2
            + (2.625 - x + x * y ** 3) ** 2)


def _saddle(x, y):
    return x ** 2 + 0.25 * y ** 4 - 0.5 * y ** 2


PROBLEMS = {problem.name: problem for problem in (
    Problem("quadratic", "Quadratic", "(x − 1)²/2 + 2(y − 1)²", _quadratic, ((1.0, 1.0),),
            0.0, start=(-2.2, -0.4), box=(-2.5, 3.0, -1.0, 2.0), steps=200,
            lesson="a well-conditioned bowl (curvatures 1 and 4), the easy case"),
    Problem("ill_conditioned", "Ill-conditioned quadratic",
            "u²/2 + 50v², u = (x + y − 2)/√2, v = (x − y)/√2", _ill_conditioned,
            ((1.0, 1.0),), 0.0, start=(-1.8, -0.3), box=(-2.5, 2.0, -1.8, 2.0), steps=400,
            lesson="curvatures 1 and 100 along the diagonals: steps must suit the steep one"),
    Problem("rosenbrock", "Rosenbrock", "(1 − x)² + 100(y − x²)²", _rosenbrock,
            ((1.0, 1.0),), 0.0, start=(-1.5, 2.0), box=(-2.0, 2.0, -1.0, 3.0), steps=2000,
            lesson="a curved, flat-bottomed valley, easy to find and slow to follow"),
    Problem("beale", "Beale", "(1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²",
            _beale, ((3.0, 0.5),), 0.0, start=(1.0, 1.5), box=(-0.5, 4.5, -1.7, 2.0),
            steps=1000, lesson="gradients that differ by orders of magnitude across the plane"),
    Problem("saddle", "Saddle", "x² + y⁴/4 − y²/2", _saddle, ((0.0, 1.0), (0.0, -1.0)), -0.25,
            start=(1.8, 0.01), box=(-2.0, 2.0, -1.6, 1.6), steps=300,
            lesson="a start near a saddle point, where the way down is a tiny gradient away",
            saddles=((0.0, 0.0),)),
)}
