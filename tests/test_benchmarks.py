"""The benchmarks' command lines and their load-average lines (the timings are not tested)."""
import pytest

from benchmarks import _load, autograd, gpu, optim, sparse
from benchmarks import __main__ as everything


@pytest.mark.parametrize("value, flagged", [(0.4, False), (1.5, False), (1.51, True)])
def test_load_line_flags_a_busy_machine(value, flagged):
    line = _load.load_line("before", value)
    assert line.startswith(f"load average before: {value:.2f}")
    assert ("UNRELIABLE" in line) is flagged
    assert _load.busy(None, value) is flagged


def test_load_line_without_a_load_average():
    assert _load.load_line("after", None) == "load average after: unknown"
    assert not _load.busy(None, None)


def test_around_notes_the_load_in_the_results(capsys, monkeypatch):
    readings = iter([0.5, 2.0])
    monkeypatch.setattr(_load, "load", lambda: next(readings))
    results = _load.around(lambda: {"rows": []})
    assert results == {"rows": [], "load_before": 0.5, "load_after": 2.0, "unreliable": True}
    assert capsys.readouterr().out.count("load average") == 2


@pytest.mark.parametrize("module, name", [(everything, "benchmarks"), (optim, "benchmarks.optim"),
                                          (sparse, "benchmarks.sparse"),
                                          (autograd, "benchmarks.autograd"),
                                          (gpu, "benchmarks.gpu")])
def test_help_names_the_command_to_run(module, name, capsys):
    with pytest.raises(SystemExit):
        module.main(["--help"])
    assert capsys.readouterr().out.startswith(f"usage: python -m {name} ")
