"""save / load: trees of containers, tensors, arrays and scalars in a pickle-free file format.

The format is specified in docs/save_format.md. ``format`` holds the constants that the two
sides share, ``writer`` implements :func:`save` and ``reader`` implements :func:`load`.
"""
from .reader import load
from .writer import save

__all__ = ["load", "save"]
