"""What a test expects of devices."""
import tinygrad_optim as tg


def landed(name: str) -> tg.device:
    """The device a tensor made with ``device=name`` reports: a bare ``"cuda"`` means the
    current GPU, ``cuda:0``, and ``device("cuda") != device("cuda:0")`` (in torch too)."""
    dev = tg.device(name)
    return tg.device("cuda", 0) if dev.type == "cuda" and dev.index is None else dev
