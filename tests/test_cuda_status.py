"""No GPU means the CPU; a broken cupy means an error that names the cause, never a skip."""
import configparser
import os
import subprocess
import sys
import types
import warnings

import pytest

import tinygrad_optim as tg
from tinygrad_optim import backend

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class _RuntimeError(RuntimeError):
    """Stands for cupy_backends' CUDARuntimeError."""


def _fake_cupy(count=1, error=None):
    """A module with just the device count backend reads (or the error it raises)."""
    def get_device_count():
        if error is not None:
            raise _RuntimeError(error)
        return count
    runtime = types.SimpleNamespace(getDeviceCount=get_device_count)
    return types.SimpleNamespace(cuda=types.SimpleNamespace(runtime=runtime))


@pytest.fixture
def importing(monkeypatch):
    """``importing(result)``: what ``import cupy`` gives backend, for this test; the status
    found is returned (and forgotten after the test, as is the cupy found)."""
    monkeypatch.setattr(backend, "_cupy_module", None)
    monkeypatch.setattr(backend, "_cupy_status", None)

    def run(result):
        def fake_import(name):
            assert name == "cupy"
            return result()
        monkeypatch.setattr(backend.importlib, "import_module", fake_import)
        return backend.cuda_status()
    return run


def _missing():
    raise ModuleNotFoundError("No module named 'cupy'", name="cupy")


def test_no_cupy_means_no_gpu_not_an_error(importing):
    status = importing(_missing)
    assert not status.available and not status.broken and "not installed" in status.reason


def test_cupy_that_warns_on_import_is_broken(importing):
    def warn():
        warnings.warn("CuPy may not function correctly because multiple CuPy packages are "
                      "installed")
        return _fake_cupy()
    status = importing(warn)
    assert not status.available and status.broken
    assert status.reason.startswith("importing cupy warned: UserWarning: CuPy may not function")


def test_cupy_missing_a_library_is_broken(importing):
    def fail():
        raise ImportError("libnvrtc.so.12: cannot open shared object file")
    status = importing(fail)
    assert status.broken and "libnvrtc.so.12" in status.reason


def test_cupy_missing_one_of_its_modules_is_broken(importing):
    def fail():
        raise ModuleNotFoundError("No module named 'fastrlock'", name="fastrlock")
    assert importing(fail).broken


def test_cupy_without_a_device_means_no_gpu(importing):
    status = importing(lambda: _fake_cupy(error="cudaErrorNoDevice: no CUDA-capable device is "
                                                "detected"))
    assert not status.available and not status.broken and "cudaErrorNoDevice" in status.reason


def test_driver_error_is_broken_where_a_driver_is_loaded(importing, monkeypatch):
    monkeypatch.setattr(backend, "_nvidia_driver_loaded", lambda: True)
    status = importing(lambda: _fake_cupy(error="cudaErrorInsufficientDriver: CUDA driver "
                                                "version is insufficient"))
    assert status.broken and "cupy cannot use the GPU" in status.reason


def test_driver_error_without_a_driver_means_no_gpu(importing, monkeypatch):
    monkeypatch.setattr(backend, "_nvidia_driver_loaded", lambda: False)
    status = importing(lambda: _fake_cupy(error="cudaErrorInsufficientDriver: CUDA driver "
                                                "version is insufficient"))
    assert not status.broken and not status.available


def test_working_cupy_is_available(importing):
    status = importing(lambda: _fake_cupy(count=2))
    assert status == backend.CudaStatus(True) and tg.cuda.unavailable_reason() is None
    assert tg.cuda.device_count() == 2


def test_using_a_broken_cupy_raises_with_the_cause(importing):
    def fail():
        raise ImportError("libcudart.so.13 not found")
    importing(fail)
    with pytest.raises(RuntimeError, match="CUDA support needs a working cupy: importing cupy "
                                           "failed: .*libcudart.so.13"):
        tg.ones(2, device="cuda")


def test_gpu_tests_fail_loudly_on_a_broken_cupy(tmp_path):
    # The suite itself: a cupy that warns on import must fail the `cuda` cases, not skip them.
    (tmp_path / "cupy").mkdir()
    (tmp_path / "cupy" / "__init__.py").write_text(
        "import warnings\nwarnings.warn('CuPy may not function correctly because multiple "
        "CuPy packages are installed')\n")
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "tests/test_engine.py::test_tensors_on_one_gpu_combine"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stdout
    assert "cupy is installed but unusable: importing cupy warned" in run.stdout


@pytest.mark.parametrize("extra", ["cuda12x", "cuda13x"])
def test_cuda_extras_require_cupy_14(extra):
    # cupy 13 lacks put_along_axis (max/min backward) and NumPy 2's weak Python scalars.
    config = configparser.ConfigParser()
    config.read(os.path.join(ROOT, "setup.cfg"))
    requirement = config["options.extras_require"][extra].strip()
    assert requirement == f"cupy-{extra}>=14"
