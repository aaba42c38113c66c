"""What must hold on every device: the GPU path raises and computes as the CPU path does."""
import numpy as np
import pytest

import tinygrad_optim as tg
import tinygrad_optim.nn.functional as F
from tinygrad_optim import backend
from _devices import landed

# Each is an index out of range; cupy would wrap it around silently where torch raises.
OUT_OF_RANGE = {
    "getitem": lambda x, i: x[i],
    "getitem 2-D": lambda x, i: x.reshape(2, 2)[:, i],
    "setitem": lambda x, i: x.__setitem__(i, 1.0),
    "embedding": lambda x, i: F.embedding(i, x.reshape(4, 1)),
    "cross_entropy": lambda x, i: F.cross_entropy(x.reshape(1, 4), i[:1]),
}
BAD = {"getitem": [0, 4], "getitem 2-D": [-3], "setitem": [5], "embedding": [4],
       "cross_entropy": [7]}


def _error(device, name):
    x = tg.arange(4.0, device=device)
    with pytest.raises((IndexError, RuntimeError)) as info:
        OUT_OF_RANGE[name](x, tg.tensor(BAD[name], device=device))
    return type(info.value), str(info.value)


@pytest.mark.parametrize("name", OUT_OF_RANGE)
def test_out_of_range_index_raises_on_every_device(device, name):
    assert _error(device, name) == _error("cpu", name)


def test_two_gradient_contributions_to_one_tensor_add_up(device):
    # w * w sends w two gradients: the second is added into the first's buffer.
    w = tg.tensor([1.0, -2.0], device=device, requires_grad=True)
    (w * w + w).sum().backward()
    assert w.grad.device == landed(device) and w.grad.tolist() == [3.0, -3.0]


@pytest.mark.parametrize("dtype", ["int8", "int16", "uint8", "int32", "float16", "bool"])
def test_scatter_add_wraps_small_integers_as_numpy_does(device, dtype):
    # cupy's add.at has no 8/16-bit integer or bool kernel: those add wider and cast back.
    values = np.array([100, 100, 3, 1], dtype=dtype)
    target = np.array([60, 0, 1], dtype=dtype)
    index = np.array([0, 0, 2, 2])
    expected = target.copy()
    np.add.at(expected, index, values)
    on_device = tg.tensor(target, device=device)._array
    backend.scatter_add(on_device, tg.tensor(index, device=device)._array,
                        tg.tensor(values, device=device)._array)
    assert backend.to_numpy(on_device).tolist() == expected.tolist()


def test_sparse_int8_values_sum_as_on_the_cpu(device):
    def coalesced(dev):
        s = tg.sparse_coo_tensor([[0, 0, 1]], tg.tensor([100, 100, 3], dtype=tg.int8), (2,),
                                 device=dev)
        return s.coalesce()._values().tolist()
    assert coalesced(device) == coalesced("cpu") == [-56, 3]


def test_tensor_of_a_gpu_array_stays_on_its_gpu(device):
    array = tg.ones(3, device=device)._array
    copy = tg.tensor(array)
    assert copy.device == landed(device) and copy._array is not array


def test_tensor_of_a_tensor_keeps_its_device(device):
    with pytest.warns(UserWarning, match="To copy construct from a tensor"):
        copy = tg.tensor(tg.ones(2, device=device))
    assert copy.device == landed(device)


@pytest.mark.gpu
def test_gpu_index_into_a_cpu_tensor_is_refused(cuda):
    with pytest.raises(RuntimeError, match=r"indices should be either on cpu or on the same "
                                           r"device as the indexed tensor \(cpu\)"):
        tg.arange(3.0)[tg.tensor([0, 1], device=cuda)]


@pytest.mark.gpu
def test_cpu_index_into_a_gpu_tensor_is_allowed_as_in_torch(cuda):
    x = tg.arange(3.0, device=cuda)
    assert x[tg.tensor([2, 0])].tolist() == [2.0, 0.0]
    x[tg.tensor([1])] = 7.0
    assert x.tolist() == [0.0, 7.0, 2.0]


@pytest.mark.gpu
def test_second_gpu_computes_on_its_own_device(cuda):
    # A cupy kernel runs on the current device; the library enters the data's device.
    if tg.cuda.device_count() < 2:
        pytest.skip("needs 2 GPUs")
    w = tg.tensor([1.0, 2.0], device="cuda:1", requires_grad=True)
    opt = tg.optim.Adam([w], lr=0.1)
    (w.exp() * 2).sum().backward()
    opt.step()
    assert w.device == tg.device("cuda:1") and w.grad.device == tg.device("cuda:1")
    assert opt.state[w]["exp_avg"].device == tg.device("cuda:1")
