"""Every script in examples/ runs as a user would run it; every figure it announces is a PNG."""
import ast
import os
import pathlib
import re
import struct
import subprocess
import sys
import zlib

import pytest

from _png import PNG_SIGNATURE, check_png
from tinygrad_optim.tour import _plot

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


def docstring(script: pathlib.Path) -> str:
    return ast.get_docstring(ast.parse(script.read_text())) or ""


def promised_figures(script: pathlib.Path) -> set:
    """The PNG files that the example's docstring names: what it tells a reader it draws."""
    return set(re.findall(r"[\w.-]+\.png", docstring(script)))


# Known to make figures: the docstring names one, or the script calls _plot.save itself.
PLOTTING = [script for script in EXAMPLES
            if promised_figures(script) or "_plot.save(" in script.read_text()]
# _plot.save prints this line for every figure it writes.
FIGURE_LINE = re.compile(r"^  figure: (.+)$", re.MULTILINE)


def run_script(script, *args, prelude=""):
    """``python script *args`` from the repository root; ``prelude`` runs first, in-process."""
    # The scripts import the library under test, not whatever copy happens to be installed.
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, str(script), *args]
    if prelude:
        command = [sys.executable, "-c", f"{prelude}; import runpy, sys; "
                   f"sys.argv = {[str(script), *args]!r}; "
                   f"runpy.run_path({str(script)!r}, run_name='__main__')"]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="session")
def example_run(tmp_path_factory):
    """Runs each example once per session, with a fresh folder as argv[1]: (folder, result)."""
    runs = {}

    def run(script):
        if script not in runs:
            out_dir = tmp_path_factory.mktemp(script.stem)
            runs[script] = out_dir, run_script(script, str(out_dir))
        return runs[script]
    return run


def announced_figures(stdout: str):
    return [pathlib.Path(line) for line in FIGURE_LINE.findall(stdout)]


def test_examples_exist():
    assert EXAMPLES, "examples/ has no scripts"


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_docstring_says_how_to_run_it(script):
    assert f"python examples/{script.name}" in docstring(script)


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(script, example_run):
    _, result = example_run(script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip(), "the example printed nothing"


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_figures_are_pngs_in_the_output_folder(script, example_run):
    out_dir, result = example_run(script)
    for path in announced_figures(result.stdout):
        assert path.resolve().is_relative_to(out_dir.resolve()), f"{path} is not in argv[1]"
        check_png(path)


@pytest.mark.skipif(not _plot.available(), reason="matplotlib is not installed")
@pytest.mark.parametrize("script", PLOTTING, ids=lambda p: p.name)
def test_plotting_example_makes_its_figures(script, example_run):
    _, result = example_run(script)
    made = {path.name for path in announced_figures(result.stdout)}
    assert made, "no '  figure: <path>' line was printed"
    assert promised_figures(script) <= made, "a figure that the docstring names is missing"


@pytest.mark.parametrize("script,args", [
    ("logistic_regression.py", []),
    ("spirals_mlp.py", ["--epochs", "2"]),
])
def test_example_without_matplotlib_prints_the_hint_and_trains(script, args, tmp_path):
    # None in sys.modules makes every `import matplotlib...` raise ImportError.
    result = run_script(ROOT / "examples" / script, str(tmp_path), *args,
                        prelude="import sys; sys.modules['matplotlib'] = None")
    assert result.returncode == 0, result.stderr
    assert _plot.INSTALL_HINT in result.stderr and "test acc" in result.stdout
    assert not announced_figures(result.stdout) and not list(tmp_path.glob("*.png"))


# ---------------------------------------------------------------- the PNG check itself
def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png(width=1, height=1) -> bytes:
    """A minimal greyscale PNG, written by hand: signature, IHDR, IDAT, IEND."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = (b"\x00" + b"\x80" * width) * height  # filter byte 0, then mid-grey pixels
    return (PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows))
            + _chunk(b"IEND", b""))


def test_png_check_accepts_a_whole_png(tmp_path):
    path = tmp_path / "ok.png"
    path.write_bytes(_png(3, 2))
    check_png(path)


@pytest.mark.parametrize("data", [
    b"", b"GIF89a" + _png()[6:], _png(0, 4), _png()[:-4],
    _png()[:20] + b"\xff" + _png()[21:],
], ids=["empty", "signature", "zero_width", "truncated", "ihdr_crc"])
def test_png_check_rejects_a_broken_png(tmp_path, data):
    path = tmp_path / "broken.png"
    path.write_bytes(data)
    with pytest.raises(AssertionError):
        check_png(path)
