"""Every module imports first in a fresh interpreter; cupy and torch are never imported."""
import ast
import concurrent.futures
import importlib.util
import os
import pathlib
import pkgutil
import subprocess
import sys

import pytest

import tinygrad_optim

ROOT = pathlib.Path(__file__).resolve().parent.parent
MODULES = sorted(m.name for m in pkgutil.walk_packages(tinygrad_optim.__path__,
                                                       "tinygrad_optim."))


def _python(code: str, *extra_path: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([*extra_path, str(ROOT), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)


@pytest.fixture(scope="module")
def import_results():
    """Import each module first in its own interpreter, one interpreter per core at a time."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        runs = dict(zip(MODULES, pool.map(lambda name: _python(f"import {name}"), MODULES)))
    return {name: (run.returncode, run.stderr) for name, run in runs.items()}


def test_modules_are_found():
    assert {"tinygrad_optim.tensor", "tinygrad_optim.autograd", "tinygrad_optim.ops.arith",
            "tinygrad_optim.creation"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_module_imports_first_in_a_fresh_interpreter(import_results, name):
    returncode, stderr = import_results[name]
    assert returncode == 0, stderr


def test_import_never_imports_cupy(tmp_path):
    # A cupy that fails loudly on import: using the CPU must never touch it.
    (tmp_path / "cupy").mkdir()
    (tmp_path / "cupy" / "__init__.py").write_text("raise ImportError('cupy was imported')\n")
    code = ("import sys, tinygrad_optim as tg\n"
            "x = tg.randn(3, requires_grad=True)\n"
            "(x * x).sum().backward()\n"
            "x.data.sub_(0.1 * x.grad)\n"
            "print(repr(x))\n"
            "print('cupy' in sys.modules, 'torch' in sys.modules)\n")
    result = _python(code, str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "False False"


def _imports_at_load(name: str) -> set:
    """The package modules that module ``name`` imports when it loads (not inside functions).

    ``from . import dtypes`` names the module ``tinygrad_optim.dtypes``; ``from .x import y``
    names ``x.y`` when that is a module, else ``x``.
    """
    spec = importlib.util.find_spec(name)
    tree = ast.parse(pathlib.Path(spec.origin).read_text())
    package = name if spec.submodule_search_locations else name.rpartition(".")[0]
    found = set()
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue  # imports inside functions run later, when the cycle is complete
        stack.extend(ast.iter_child_nodes(node))
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in MODULES else base)
    return {m for m in found if m in MODULES or m == "tinygrad_optim"}


def _cycle(graph: dict):
    """One import cycle in ``graph`` as a list of modules, or None (iterative DFS)."""
    state = {}
    for start in graph:
        if start in state:
            continue
        path, stack = [], [(start, iter(sorted(graph[start])))]
        state[start] = "open"
        path.append(start)
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                state[node] = "done"
            elif state.get(child) == "open":
                return path[path.index(child):] + [child]
            elif child not in state:
                state[child] = "open"
                path.append(child)
                stack.append((child, iter(sorted(graph.get(child, ())))))
    return None


def test_package_has_no_circular_imports():
    graph = {name: _imports_at_load(name) for name in ["tinygrad_optim", *MODULES]}
    assert _cycle(graph) is None


def test_ops_never_reach_the_tensor_module():
    # tensor.py imports the ops; the ops work on arrays and must not need it back.
    graph = {name: _imports_at_load(name) for name in MODULES}
    reached, stack = set(), [m for m in MODULES if m.startswith("tinygrad_optim.ops")]
    while stack:
        module = stack.pop()
        if module not in reached:
            reached.add(module)
            stack.extend(graph.get(module, ()))
    assert "tinygrad_optim.tensor" not in reached
    assert "tinygrad_optim.ops.arith" in reached  # the walk did run


def test_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycle(graph) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
