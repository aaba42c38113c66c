"""Write the names and signatures of the real cupy into the strict stand-in's name file.

The stand-in (``tests/strict_cupy``) offers only what this file lists, so a library call that
real cupy does not have fails there too. Run it where the real cupy imports (no GPU needed):

    python -m pip install cupy-cuda13x==14.2.0
    python tools/cupy_names.py > tests/strict_cupy/cupy/_cupy14.json
"""
from __future__ import annotations

import ast
import inspect
import json
import sys

import cupy
import cupy.random
import cupyx
import numpy


def _params(func) -> list | None:
    """[name, kind, has_default] per parameter, from inspect or the Cython docstring's first
    line (``_ndarray_base.sum(self, axis=None, ...) -> ...``); None when neither says."""
    try:
        sig = inspect.signature(func)
        return [[p.name, p.kind.name, p.default is not p.empty]
                for p in sig.parameters.values() if p.name != "self"]
    except (TypeError, ValueError):
        pass
    first = (getattr(func, "__doc__", None) or "").splitlines()[:1]
    if not first or "(" not in first[0]:
        return None
    head = first[0].split("->")[0].strip()
    text = "def f" + head[head.index("("):] + ": pass"
    try:
        args = ast.parse(text).body[0].args
    except SyntaxError:
        return None
    out = []
    positional = args.posonlyargs + args.args
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    for a, d in zip(positional, defaults):
        out.append([a.arg, "POSITIONAL_OR_KEYWORD", d is not None])
    if args.vararg:
        out.append([args.vararg.arg, "VAR_POSITIONAL", False])
    for a, d in zip(args.kwonlyargs, args.kw_defaults):
        out.append([a.arg, "KEYWORD_ONLY", d is not None])
    if args.kwarg:
        out.append([args.kwarg.arg, "VAR_KEYWORD", False])
    return [p for p in out if p[0] != "self"]


def _kind(name, obj) -> str:
    if isinstance(obj, cupy.ufunc):
        return "ufunc"
    if inspect.ismodule(obj):
        return "module"
    if obj is getattr(numpy, name, object()):
        return "numpy"
    return "function" if callable(obj) else "constant"


def main() -> None:
    names: dict = {"version": cupy.__version__, "module": {}, "signatures": {}}
    for name in dir(cupy):
        if name.startswith("_"):
            continue
        obj = getattr(cupy, name)
        kind = _kind(name, obj)
        names["module"][name] = kind
        if kind == "function" and not inspect.isclass(obj):
            names["signatures"][name] = _params(obj)
    # ufunc.at exists on every ufunc, but only these have a scatter operation behind it.
    names["ufunc_at"] = sorted(n for n, k in names["module"].items()
                               if k == "ufunc" and getattr(cupy, n)._scatter_op is not None)
    members = [n for n in dir(cupy.ndarray) if not n.startswith("_") or n.startswith("__")]
    names["ndarray"] = members
    names["ndarray_signatures"] = {n: _params(getattr(cupy.ndarray, n)) for n in members
                                   if callable(getattr(cupy.ndarray, n))
                                   and not n.startswith("__")}
    gen = cupy.random.Generator
    names["Generator"] = {n: _params(getattr(gen, n)) for n in dir(gen)
                          if not n.startswith("_") and callable(getattr(gen, n))}
    names["random"] = [n for n in dir(cupy.random) if not n.startswith("_")]
    names["cuda"] = [n for n in dir(cupy.cuda) if not n.startswith("_")]
    names["cuda.runtime"] = [n for n in dir(cupy.cuda.runtime) if not n.startswith("_")]
    names["cuda.Device"] = [n for n in dir(cupy.cuda.Device) if not n.startswith("_")]
    names["cupyx"] = [n for n in dir(cupyx) if not n.startswith("_")]
    json.dump(names, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
