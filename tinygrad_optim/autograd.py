"""The backward pass: one visit per node, in topological order, with no recursion."""
from __future__ import annotations

import heapq
import itertools

import numpy as np

from . import grad_mode
from .backend import get_array_module, on_device_of
from .function import check_saved_versions, is_tensor, type_name, unbroadcast

_FREED = ("Trying to backward through the graph a second time (or directly access saved "
          "tensors after they have already been freed). Saved intermediate values of the graph "
          "are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if "
          "you need to backward through the graph a second time or if you need to access saved "
          "tensors after calling backward.")
NON_LEAF_GRAD = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
    "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. "
    "If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor "
    "instead. See github.com/pytorch/pytorch/pull/30531 for more information.")
_GRAD_DTYPE = (
    "attempting to assign a gradient with dtype '{}' to a tensor with grad_dtype '{}'. The "
    "gradient must match the tensor's grad_dtype (defaults to the tensor's dtype). You can set "
    "the tensor's grad_dtype attribute with a specific dtype, or None to allow any dtype. Set "
    "grad_dtype with caution. Diverging the dtypes of a tensor and its gradient may break "
    "downstream systems that assume they match.")


def backward(tensor, gradient=None, retain_graph=None, create_graph=False) -> None:
    """Add d(tensor)/d(leaf) into the ``.grad`` of every leaf that ``tensor`` depends on.

    Args:
        tensor: the output to differentiate.
        gradient: d(loss)/d(tensor), a Tensor of ``tensor``'s shape; may be left out for a
            one-element tensor (it is then 1).
        retain_graph: keep the arrays saved for backward, so that a second call works.
        create_graph: higher-order gradients; not supported.

    Raises:
        RuntimeError, TypeError: torch's errors for a bad ``gradient``, for a tensor that
            does not require grad, and for a graph already freed by an earlier call.
    """
    if create_graph:
        raise RuntimeError("create_graph=True (higher-order gradients) is not supported by "
                           "tinygrad_optim")
    gradient = _one_gradient(gradient)
    array = tensor._array
    if gradient is not None:
        if gradient.shape != tensor.shape:
            raise RuntimeError(f"Mismatch in shape: grad_output[0] has a shape of torch.Size("
                               f"{list(gradient.shape)}) and output[0] has a shape of "
                               f"torch.Size({list(tensor.shape)}).")
        if gradient.device != tensor.device:
            raise RuntimeError(f"invalid gradient at index 0 - expected device {tensor.device} "
                               f"but got {gradient.device}")
    elif tensor._requires_grad and array.size != 1:
        raise RuntimeError("grad can be implicitly created only for scalar outputs")
    if not tensor._requires_grad:
        raise RuntimeError("element 0 of tensors does not require grad and does not have a "
                           "grad_fn")
    if gradient is None:
        with on_device_of(array):
            grad = get_array_module(array).ones_like(array)
    else:
        with on_device_of(array):
            grad = gradient._array.astype(array.dtype, copy=False)
    if tensor._grad_fn is None:
        tensor._accumulate_grad(grad, False)
    else:
        run_backward(tensor._grad_fn, grad, bool(retain_graph))


def _one_gradient(gradient):
    """``gradient`` as torch reads it for one output: a Tensor, None, or a sequence of them."""
    if gradient is None or is_tensor(gradient):
        return gradient
    items = tuple(gradient)  # a bare number fails here, with Python's message as in torch
    if not items:
        raise RuntimeError("got 1 tensors and 0 gradients")
    if items[0] is not None and not is_tensor(items[0]):
        # torch's check is Python code: it prints the bare type name ("float64").
        raise TypeError("gradients can be either Tensors or None, but got "
                        f"{type(items[0]).__name__}")
    return items[0]


def check_grad_assignment(tensor, value) -> None:
    """What ``tensor.grad = value`` accepts: None, or a Tensor (or SparseTensor) like ``tensor``.

    Raises:
        TypeError: when ``value`` is not a Tensor.
        RuntimeError: on a different shape, dtype or device (torch's messages).
    """
    if value is None:
        return
    # A sparse gradient (an embedding table's) passes the same checks, as in torch.
    if not (is_tensor(value) or getattr(value, "is_sparse", False)):
        raise TypeError("assigned grad expected to be a Tensor or None but got grad of type "
                        f"{type_name(value)}")
    if value.shape != tensor.shape:
        raise RuntimeError(f"attempting to assign a gradient of size '{list(value.shape)}' to a "
                           f"tensor of size '{list(tensor.shape)}'. Please ensure that the "
                           "gradient and the tensor are the same size")
    if value.dtype is not tensor.dtype:
        raise RuntimeError(_GRAD_DTYPE.format(value.dtype._c_name, tensor.dtype._torch_type))
    if value.device != tensor.device:
        raise RuntimeError(f"attempting to assign a gradient located on device with type "
                           f"'{value.device.type}' to a tensor located on device with type "
                           f"'{tensor.device.type}'. Please ensure that the gradient and the "
                           "tensor are on the same device")


def _count_dependencies(root):
    """How many gradients each node and leaf will receive, found with an explicit stack."""
    deps = {}
    stack = [root]
    while stack:
        node = stack.pop()
        for parent in node.parents:
            if parent is None:
                continue
            seen = parent in deps
            deps[parent] = deps.get(parent, 0) + 1
            if not seen and not parent._is_tensor:
                stack.append(parent)
    return deps


class _Buffer:
    """The gradient summed so far for one node; ``owned`` once we made the array ourselves.

    At a leaf the gradient may be sparse (a SparseTensor, from an embedding looked up with
    ``sparse=True``). It stays sparse while every contribution is; torch's input buffer puts
    a new sparse contribution first (``new + old``), and a dense one makes the sum dense.
    """

    __slots__ = ("array", "owned")

    def __init__(self, array):
        # A sparse gradient is made fresh by the backward that returns it and held by no
        # one else, so it is ours from the start: the leaf can keep it without a copy.
        self.array, self.owned = array, getattr(array, "is_sparse", False)

    def add(self, array):
        mine = self.array
        if getattr(array, "is_sparse", False):
            if getattr(mine, "is_sparse", False):
                self.array = array + mine
                return
            if not self.owned:
                self.array = mine = mine.copy()
                self.owned = True
            array._add_to(mine)
        elif getattr(mine, "is_sparse", False):
            self.array = array.copy()
            mine._add_to(self.array)
            self.owned = True
        elif self.owned:
            # Not ``mine += array``: a 0-d sum may be a numpy scalar, which += rebinds.
            self.array += array
        else:
            # The first array may be shared with other nodes: never add into it.
            self.array = mine + array
            self.owned = True


def run_backward(root_fn, root_grad, retain_graph: bool) -> None:
    """Propagate ``root_grad`` from the node ``root_fn`` and add the result into leaf grads.

    A node runs once, when every node that feeds it a gradient has run (its count of
    dependencies reaches zero); among ready nodes the latest created runs first (torch's
    order), so gradients are summed in the order torch sums them. A node that receives
    only None gradients still runs, passing None on, so that its parents are counted down.
    """
    deps = _count_dependencies(root_fn)
    buffers = {root_fn: _Buffer(root_grad)}
    tie = itertools.count()
    ready = [(-root_fn.seq, next(tie), root_fn)]
    # One errstate for the whole pass: inf and nan gradients arise silently, as in torch.
    with grad_mode.no_grad(), np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        while ready:
            _, _, node = heapq.heappop(ready)
            buf = buffers.pop(node, None)
            if node._is_tensor:
                if buf is not None:
                    with on_device_of(node._array):  # a GPU computes on the current device
                        node._accumulate_grad(buf.array, buf.owned)
                continue
            if buf is None:
                grads = (None,) * len(node.parents)
            elif type(buf.array) is np.ndarray:
                grads = _call_backward(node, buf.array, retain_graph)
            else:
                with on_device_of(buf.array):
                    grads = _call_backward(node, buf.array, retain_graph)
            for parent, grad, (shape, dtype) in zip(node.parents, grads, node.input_meta):
                if parent is None:
                    continue
                if type(grad) is np.ndarray:  # the common case, written out
                    if grad.shape != shape:  # tested here: most gradients fit already
                        grad = unbroadcast(grad, shape)
                    if grad.dtype != dtype:  # e.g. a float32 input of a float64 op
                        grad = grad.astype(dtype)
                    if parent in buffers:
                        buffers[parent].add(grad)
                    else:
                        buffers[parent] = _Buffer(grad)
                elif grad is not None:
                    _collect(buffers, parent, grad, shape, dtype)
                left = deps[parent] - 1
                deps[parent] = left
                if not left:
                    # Leaves go after every node: their gradient is complete by then anyway.
                    key = 1 if parent._is_tensor else -parent.seq
                    heapq.heappush(ready, (key, next(tie), parent))


def _collect(buffers, parent, grad, shape, dtype) -> None:
    """Add a sparse or GPU gradient into ``parent``'s buffer, on the gradient's device (the
    gradient of a move between devices lands on the other one)."""
    if getattr(grad, "is_sparse", False):
        grad = _sparse_for(parent, grad, dtype)  # stays sparse for a leaf only
    sparse = getattr(grad, "is_sparse", False)
    with on_device_of(grad._values_array if sparse else grad):
        if not sparse:
            if grad.shape != shape:
                grad = unbroadcast(grad, shape)
            if grad.dtype != dtype:
                grad = grad.astype(dtype)
        if parent in buffers:
            buffers[parent].add(grad)
        else:
            buffers[parent] = _Buffer(grad)


def _sparse_for(parent, grad, dtype):
    """A sparse gradient as ``parent`` takes it: kept sparse for a leaf, dense for a node.

    Only leaves accumulate sparse gradients (torch sends an embedding's straight to the
    weight's AccumulateGrad); every Function's backward works on dense arrays.
    """
    if grad._values_array.dtype != dtype:
        grad = grad.to(dtype)
    if getattr(parent, "_is_tensor", False):
        return grad
    return grad.to_dense()._array


def _call_backward(node, gy, retain_graph):
    if node.saved is None:
        raise RuntimeError(_FREED)
    if node._saved_versions:
        check_saved_versions(node)
    if node._retained is not None:
        kept = node._retained()
        if kept is not None:
            kept._accumulate_grad(gy, False)
    grads = node.backward(gy)
    if len(grads) != len(node.parents):
        raise RuntimeError(f"function {node.name()} returned an incorrect number of gradients "
                           f"(expected {len(node.parents)}, got {len(grads)})")
    if not retain_graph and node.saved:
        node.saved = None  # free what forward kept; a second pass now raises _FREED
    return grads
