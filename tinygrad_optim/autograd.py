"""The backward pass: one visit per node, in topological order, with no recursion."""
from __future__ import annotations

import heapq
import itertools

from . import grad_mode
from .function import check_saved_versions, unbroadcast

_FREED = ("Trying to backward through the graph a second time (or directly access saved "
          "tensors after they have already been freed). Saved intermediate values of the graph "
          "are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if "
          "you need to backward through the graph a second time or if you need to access saved "
          "tensors after calling backward.")


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
            if not seen and not getattr(parent, "_is_tensor", False):
                stack.append(parent)
    return deps


class _Buffer:
    """The gradient summed so far for one node; ``owned`` once we made the array ourselves."""

    __slots__ = ("array", "owned")

    def __init__(self, array):
        self.array, self.owned = array, False

    def add(self, array):
        if self.owned:
            self.array += array
        else:
            # The first array may be shared with other nodes: never add into it.
            self.array = self.array + array
            self.owned = True


def run_backward(root_fn, root_grad, retain_graph: bool) -> None:
    """Propagate ``root_grad`` from the node ``root_fn`` and add the result into leaf grads.

    Ready nodes run latest-created first (torch's order), so gradients are summed in the
    same order as torch sums them.
    """
    deps = _count_dependencies(root_fn)
    buffers = {root_fn: _Buffer(root_grad)}
    tie = itertools.count()
    ready = [(-root_fn.seq, next(tie), root_fn)]
    with grad_mode.no_grad():
        while ready:
            _, _, node = heapq.heappop(ready)
            buf = buffers.pop(node)
            if getattr(node, "_is_tensor", False):
                node._accumulate_grad(buf.array, buf.owned)
                continue
            grads = _call_backward(node, buf.array, retain_graph)
            for parent, grad, (shape, dtype) in zip(node.parents, grads, node.input_meta):
                if parent is None:
                    continue
                deps[parent] -= 1
                if grad is not None:
                    grad = unbroadcast(grad, shape)
                    if grad.dtype != dtype:  # e.g. a float32 input of a float64 op
                        grad = grad.astype(dtype)
                    if parent in buffers:
                        buffers[parent].add(grad)
                    else:
                        buffers[parent] = _Buffer(grad)
                if deps[parent] == 0 and parent in buffers:
                    # Leaves go after every node: their gradient is complete by then anyway.
                    key = 1 if getattr(parent, "_is_tensor", False) else -parent.seq
                    heapq.heappush(ready, (key, next(tie), parent))


def _call_backward(node, gy, retain_graph):
    if node.saved is None:
        raise RuntimeError(_FREED)
    check_saved_versions(node)
    if node._retained is not None:
        kept = node._retained()
        if kept is not None:
            kept._accumulate_grad(gy, False)
    grads = node.backward(gy)
    if not retain_graph and node.saved:
        node.saved = None  # free what forward kept; a second pass now raises _FREED
    return grads
