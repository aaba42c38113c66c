"""The documentation site: it builds with warnings as errors, and what its pages claim is true."""
from __future__ import annotations

import ast
import contextlib
import inspect
import io
import os
import pathlib
import re
import subprocess
import sys
import textwrap

import pytest

import tinygrad_optim as tg
from tinygrad_optim import optim

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
OPTIMIZER_PAGES = {"SGD": "sgd", "Adagrad": "adagrad", "RMSprop": "rmsprop",
                   "Adadelta": "adadelta", "Adam": "adam", "AdamW": "adamw", "Adamax": "adamax",
                   "SparseAdam": "sparse_adam", "ASGD": "asgd", "Rprop": "rprop",
                   "LBFGS": "lbfgs"}
FUNCTIONS = ["quadratic", "ill_conditioned", "rosenbrock", "beale", "saddle"]
FIGURES = (["lr_manual_loss", "lr_manual_path", "lr_sweep", "lr_regimes", "ewa_weights",
            "momentum_compare", "momentum_sweep", "optimizers_state"]
           + [f"optimizers_{f}_{kind}" for f in FUNCTIONS for kind in ("paths", "loss")])
# Settings under which each optimizer makes every state entry its page lists.
FULL_STATE = {"SGD": {"momentum": 0.9}, "RMSprop": {"momentum": 0.9, "centered": True},
              "Adam": {"amsgrad": True}, "AdamW": {"amsgrad": True}}
PAGES_WITH_CODE = ["index.md", "getting_started.md", "tutorial.md", "optimizers/lbfgs.md"]
# The documented build command (docs/getting_started.md): -n reports references to nothing.
BUILD_OPTIONS = ["-n", "-W", "--keep-going", "-b", "html"]
FENCE = re.compile(r"^( *)```(\S*)[^\n]*\n(.*?)^\1```[ \t]*$", re.M | re.S)


def _env(**extra) -> dict:
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return dict(os.environ, PYTHONPATH=path, **extra)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Builds the site once, from a fast run of the tour; returns the HTML folder."""
    for module in ("sphinx", "myst_parser", "matplotlib"):  # matplotlib: the tour's figures
        pytest.importorskip(module)
    work = tmp_path_factory.mktemp("docs")
    tour = subprocess.run([sys.executable, "-m", "tinygrad_optim", "--fast"], cwd=work,
                          env=_env(), capture_output=True, text=True, check=False)
    assert tour.returncode == 0, tour.stderr
    figures = work / "tinygrad_optim_tour"
    (figures / "tour.txt").write_text(tour.stdout, encoding="utf-8")
    html = work / "html"
    build = subprocess.run(
        [sys.executable, "-m", "sphinx", *BUILD_OPTIONS, "-q", "-N", "-d",
         str(work / "doctrees"), str(DOCS), str(html)],
        env=_env(TINYGRAD_OPTIM_TOUR_DIR=str(figures)), capture_output=True, text=True,
        check=False)
    assert build.returncode == 0, build.stderr
    return html


def _section(page: str, title: str) -> str:
    """The text of the ``## title`` section of a docs page (up to the next ``##``)."""
    text = (DOCS / page).read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"{page} has no section '{title}'"
    return match.group(1)


def _table_rows(page: str, title: str) -> dict:
    """``{name: second cell}`` of the table rows of a section whose first cell is `name`."""
    rows = re.findall(r"^\| `(\w+)` \| ([^|]*) \|", _section(page, title), re.M)
    return {name: cell.strip() for name, cell in rows}


def test_docs_build_command_is_the_documented_one():
    command = " ".join(["python -m sphinx", *BUILD_OPTIONS, "docs docs/_build/html"])
    assert command in (DOCS / "getting_started.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("page", ["index", "getting_started", "tutorial", "optimizers/index",
                                  "api/index", "api/tensor", "api/optim", "autograd",
                                  "save_format", "gpu", "performance"])
def test_docs_page_built(site, page):
    assert (site / f"{page}.html").is_file()


@pytest.mark.parametrize("figure", FIGURES)
def test_docs_tutorial_shows_figure(site, figure):
    html = (site / "tutorial.html").read_text(encoding="utf-8")
    sources = re.findall(r'<img[^>]*\bsrc="([^"]+)"', html)
    shown = [src for src in sources if src.endswith(f"/{figure}.png")]
    assert shown and (site / shown[0]).is_file()


@pytest.mark.parametrize("module", [tg, tg.nn, tg.nn.functional, optim])
def test_docs_api_reference_covers_public_names(site, module):
    documented = set()
    for page in site.rglob("*.html"):
        documented.update(re.findall(r'<dt class="sig sig-object py" id="([\w.]+)"',
                                     page.read_text(encoding="utf-8")))
    public = [name for name, obj in ((name, getattr(module, name)) for name in module.__all__)
              if inspect.isclass(obj) or inspect.isfunction(obj)]
    missing = [name for name in public if f"{module.__name__}.{name}" not in documented]
    assert public and not missing


@pytest.mark.parametrize("page", sorted(OPTIMIZER_PAGES.values()))
def test_docs_optimizer_page_renders_math(site, page):
    html = (site / "optimizers" / f"{page}.html").read_text(encoding="utf-8")
    script = re.search(r'<script[^>]*src="([^"]*mathjax/tex-chtml\.js)"', html)
    assert script and (site / "optimizers" / script.group(1)).is_file()  # offline MathJax
    assert re.search(r'<div class="math[^"]*">\s*\\\[', html)  # display math for MathJax


@pytest.mark.parametrize("name", sorted(OPTIMIZER_PAGES))
def test_docs_optimizer_defaults_match_signature(name):
    page = f"optimizers/{OPTIMIZER_PAGES[name]}.md"
    documented = _table_rows(page, "Arguments and defaults")
    parameters = inspect.signature(getattr(optim, name)).parameters
    assert list(documented) == list(parameters)
    for argument, cell in documented.items():
        default = parameters[argument].default
        if default is inspect.Parameter.empty:
            assert cell == "required"
        else:
            assert ast.literal_eval(cell.strip("`")) == default, argument


def _run_full_state(name: str) -> dict:
    """A parameter's state after two steps of optimizer ``name`` with every option on."""
    table = tg.nn.Embedding(4, 3, sparse=(name == "SparseAdam"))  # SparseAdam's sparse grad
    param = table.weight
    optimizer = getattr(optim, name)([param], **FULL_STATE.get(name, {}))

    def closure():
        optimizer.zero_grad()
        rows = table(tg.tensor([0, 2, 2]))
        loss = (rows ** 2).sum() + (rows ** 4).sum()
        loss.backward()
        return loss

    for _ in range(2):
        optimizer.step(closure)
    return optimizer.state[param]


@pytest.mark.parametrize("name", sorted(OPTIMIZER_PAGES))
def test_docs_optimizer_state_keys_match_state(name):
    documented = _table_rows(f"optimizers/{OPTIMIZER_PAGES[name]}.md", "State")
    assert set(documented) == set(_run_full_state(name))


def _python_blocks(page: str) -> list:
    """``(code, expected output or None)`` for each python block of a page, in order.

    A ``text`` block that directly follows a python block is the output it must print.
    """
    text = (DOCS / page).read_text(encoding="utf-8")
    fences = list(FENCE.finditer(text))
    blocks = []
    for fence, after in zip(fences, fences[1:] + [None]):
        if fence.group(2) != "python":
            continue
        adjacent = (after is not None and after.group(2) == "text"
                    and not text[fence.end():after.start()].strip())
        output = textwrap.dedent(after.group(3)) if adjacent else None
        blocks.append((textwrap.dedent(fence.group(3)), output))
    return blocks


@pytest.mark.parametrize("page", PAGES_WITH_CODE)
def test_docs_code_blocks_print_what_they_show(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the tutorial saves a state dict in the current folder
    namespace = {"__name__": "__docs__"}
    blocks = _python_blocks(page)
    assert blocks
    for code, expected in blocks:
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(code, f"{page} block", "exec"), namespace)
        if expected is not None:
            assert printed.getvalue() == expected, code


def test_getting_started_gives_the_readme_commands_word_for_word():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"<!-- (?:main|test)-command -->\n```bash\n(.+)\n```", readme)
    assert len(commands) == 2
    page = (DOCS / "getting_started.md").read_text(encoding="utf-8")
    for command in commands:
        assert f"```bash\n{command}\n```" in page
