"""The Optimizer base class: param groups, per-parameter state, zero_grad, state_dict I/O."""
from __future__ import annotations

import copy
import functools
import warnings
from collections import defaultdict
from itertools import chain
from typing import Any, Callable, Iterable

import numpy as np

from .. import dtypes
from ..backend import on_device_of
from ..creation import tensor
from ..grad_mode import enable_grad
from ..tensor import Tensor

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """The type of ``required``: a default that each param group must override."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def _typename(obj) -> str:
    """``torch.typename``: ``torch.FloatTensor`` for a tensor, else the qualified type name."""
    if isinstance(obj, Tensor):
        return obj._type_name()
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module, qualname = type(obj).__module__ or "", type(obj).__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


def updated_array(tensor: Tensor):
    """The array of ``tensor`` for a kernel to write in place; the write counts as torch's.

    Kernels work on raw arrays, so the tensor's version counter is bumped here: autograd then
    refuses to back-propagate through a graph that saved the old values, as torch does after
    ``optimizer.step()`` changed a parameter the graph needs.
    """
    tensor._vc[0] += 1
    return tensor._array


def each_on_its_device(params):
    """Yield each parameter with its GPU made cupy's current device for the loop's body.

    A cupy kernel (and a new array) runs on the current device, wherever its operands live:
    a step over a parameter on ``cuda:1`` must enter that device, or it computes on ``cuda:0``
    (or fails when the GPUs cannot reach each other's memory). CPU parameters pass as they are.
    """
    for param in params:
        if isinstance(param._array, np.ndarray):
            yield param
        else:
            with on_device_of(param._array):
                yield param


def check_implementation_flags(defaults: dict[str, Any]) -> None:
    """torch's checks of its implementation flags (``foreach``, ``fused``, ``capturable``,
    ``differentiable``), then the two settings this library cannot honour yet.

    The base class makes them after building the groups, as torch does, in torch's order;
    optimizers without the flags pass through. ``foreach`` (either way) and
    ``fused=False`` change nothing here: there is one implementation, whose results are
    torch's default path's. ``capturable=True`` is checked at each step, as in torch.

    Raises:
        RuntimeError: ``fused`` together with ``differentiable`` or ``foreach`` (torch's).
        NotImplementedError: ``fused=True`` (it needs compiled kernels, not built yet) or
            ``differentiable=True`` (no gradient through a step yet).
    """
    if defaults.get("fused"):
        if defaults.get("differentiable"):
            raise RuntimeError("`fused` does not support `differentiable`")
        if defaults.get("foreach"):
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        raise NotImplementedError("fused=True needs compiled optimizer kernels, which "
                                  "tinygrad_optim does not have yet; leave fused=None (the "
                                  "default), whose results are torch's default path's")
    if defaults.get("differentiable"):
        raise NotImplementedError("differentiable=True (a gradient through optimizer.step()) "
                                  "is not supported by tinygrad_optim")


def _counting(step: Callable) -> Callable:
    """Wrap a subclass's ``step`` so that every completed call adds one to ``_step_count``."""
    @functools.wraps(step)
    def counted_step(self, *args, **kwargs):
        result = step(self, *args, **kwargs)
        # Only the outermost override counts: a subclass whose step() calls super().step()
        # has taken one step, not two.
        if type(self).step is counted_step:
            self._step_count += 1
        return result

    counted_step._counts_steps = True
    return counted_step


class Optimizer:
    """Base class of all optimizers: holds parameter groups and per-parameter state.

    A subclass validates its hyperparameters, passes them as ``defaults`` and implements
    ``step()``. Every ``step`` a subclass defines is wrapped once, when the class is created,
    to count completed steps in ``_step_count``; no subclass repeats that bookkeeping.

    Args:
        params: an iterable of Tensors, of ``(name, Tensor)`` pairs, or of dicts (param
            groups) with a ``'params'`` entry and per-group hyperparameters.
        defaults: the hyperparameters of groups that do not set them, in the order the
            groups (and ``state_dict()``) list them.

    Attributes:
        defaults (dict): as given.
        state (defaultdict): per-parameter state dicts, keyed by the parameter tensor itself
            (tensors hash by identity).
        param_groups (list[dict]): each with ``'params'`` and every key of ``defaults``.
        _step_count (int): completed ``step()`` calls, starting at 0. A deliberate departure:
            torch 2.13 keeps this counter on its LR schedulers; the tutorial reads it from the
            optimizer to adjust the learning rate. It is not part of ``state_dict()``.
    """

    def __init__(self, params: Iterable, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self._step_count = 0
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {_typename(params)}")
        self.state: defaultdict[Any, dict] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)
        check_implementation_flags(defaults)  # after the groups, as torch checks them

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_counts_steps", False):
            cls.step = _counting(step)

    def __getstate__(self) -> dict[str, Any]:
        # torch's three entries, plus the step counter so that a deepcopy keeps counting on.
        return {"defaults": self.defaults, "state": self.state,
                "param_groups": self.param_groups, "_step_count": self._step_count}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore attributes; subclasses then fill flags that older state dicts lack."""
        self.__dict__.update(state)
        self.__dict__.setdefault("_step_count", 0)

    def _numbers_to_tensors(self, keys=("step",), on_param_device: bool = False) -> None:
        """torch's back-compat on load: state counters saved as Python numbers (older state
        dicts) become the 0-d float32 tensors torch keeps now, on the CPU or, for ASGD, on
        the parameter's device."""
        for group in self.param_groups:
            for param in group["params"]:
                entry = self.state.get(param) or {}
                for key in keys:
                    if key in entry and not isinstance(entry[key], Tensor):
                        device = param.device if on_param_device else None
                        entry[key] = tensor(float(entry[key]), dtype=dtypes.float32,
                                            device=device)

    def __repr__(self) -> str:
        text = f"{type(self).__name__} ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"

    # ------------------------------------------------------------------ stepping
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradient of every parameter.

        ``backward()`` *adds* into ``.grad`` and nothing ever clears it automatically, so
        without this call the gradients of successive iterations pile up.

        Args:
            set_to_none: True (the default since torch 2.0) sets ``p.grad = None``: it frees
                the memory, and ``step()`` skips the parameter until a new gradient arrives.
                False zeroes the gradient in place, the way the tutorial does it
                (``p.grad.detach_(); p.grad.zero_()``; a gradient outside any graph just
                stops requiring grad), so ``step()`` still sees a zero gradient.
        """
        for group in self.param_groups:
            for param in group["params"]:
                grad = param.grad
                if grad is None:
                    continue
                if set_to_none:
                    param.grad = None
                    continue
                if grad.grad_fn is not None:
                    grad.detach_()
                else:
                    grad.requires_grad_(False)
                grad.zero_()

    def step(self, closure: Callable | None = None):
        """Update every parameter that has a gradient (implemented by each algorithm).

        The contract every subclass keeps: ``closure`` (a function that re-evaluates the
        model and returns the loss) is called once, first, under ``enable_grad()``, and its
        return value is returned unchanged; without a closure step() returns None. The update
        itself runs under ``no_grad()``. Parameters whose ``.grad`` is None are skipped and
        get no state. Groups, and the parameters in each group, are visited in order.

        Raises:
            NotImplementedError: always, on the base class.
        """
        raise NotImplementedError

    # torch's step-time error for capturable=True on a device it cannot capture (the CPU).
    _CAPTURABLE_DEVICES = "['cuda', 'xpu', 'hpu', 'privateuseone', 'xla']"
    _CAPTURABLE_TENSORS = "params and state_steps"

    def _evaluate_closure(self, closure: Callable | None):
        """The first part of the step contract: the closure's loss, computed with grad on;
        then torch's check of ``capturable`` on the parameters that will be stepped."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        self._check_capturable()
        return loss

    def _check_capturable(self) -> None:
        """``capturable=True`` asks for CUDA-graph capture: torch refuses CPU parameters (an
        AssertionError); this library has no graph capture on a GPU either."""
        for group in self.param_groups:
            if not group.get("capturable"):
                continue
            stepped = [p for p in group["params"] if p.grad is not None]
            if any(p.device.type == "cpu" for p in stepped):
                raise AssertionError(f"If capturable=True, {self._CAPTURABLE_TENSORS} must be "
                                     f"on supported devices: {self._CAPTURABLE_DEVICES}.")
            if stepped:
                raise NotImplementedError("capturable=True (CUDA graph capture) is not "
                                          "supported by tinygrad_optim")

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyperparameters (torch's checks, in order).

        The dict is completed in place: ``'params'`` becomes a list of tensors (a single
        tensor becomes a one-element list), named parameters add ``'param_names'``, and each
        hyperparameter the group does not set is taken from ``defaults``. Values given per
        group are not validated, as in torch.

        Raises:
            TypeError: ``param_group`` is not a dict, its params are a set or contain a
                non-Tensor.
            KeyError: there is no ``'params'`` entry.
            ValueError: a non-leaf tensor, names given for some params only or for some
                groups only, a missing ``required`` hyperparameter, or a parameter that is
                already in another group.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        param_group["params"] = [p[1] if isinstance(p, tuple) else p for p in params]
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some "
                                 "param names are missing")
            param_group["param_names"] = names
        self._check_params(param_group["params"])
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)
        self._check_against_groups(param_group)
        self.param_groups.append(param_group)

    @staticmethod
    def _check_params(params: list) -> None:
        """Every param must be a Tensor and a leaf (or a non-leaf that retains its grad)."""
        for param in params:
            # A sparse tensor is a torch.Tensor too: accepted here, refused by SparseAdam.
            if not (isinstance(param, Tensor) or getattr(param, "is_sparse", False)):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + _typename(param))
            if not (param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")

    def _check_against_groups(self, param_group: dict[str, Any]) -> None:
        """torch's last checks: duplicates in the group (a warning only), names in all groups
        or in none, and no parameter in two groups."""
        params = param_group["params"]
        if len(params) != len(set(params)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error; see "
                          "github.com/pytorch/pytorch/issues/40967 for more information",
                          UserWarning, stacklevel=4)
        named = "param_names" in param_group
        seen: set = set()
        for group in self.param_groups:
            seen.update(group["params"])
            if named != ("param_names" in group):
                which = "with names" if named else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        if not seen.isdisjoint(params):
            raise ValueError("some parameters appear in more than one parameter group")

    # ------------------------------------------------------------------ state_dict
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state as plain dicts, lists and tensors, torch's layout exactly.

        ``{'state': {index: {...}}, 'param_groups': [{...hyperparameters, 'params': [index,
        ...]}]}``. Parameters are numbered by position, across groups in order (a tensor
        listed twice in one group gets its later number, torch's quirk); ``'state'`` lists
        parameters in the order their state was created and holds the live state dicts and
        tensors, not copies.
        """
        index: dict[Any, int] = {}  # tensors hash by identity
        groups = []
        start = 0
        for group in self.param_groups:
            packed = {key: value for key, value in group.items() if key != "params"}
            # As torch: a tensor listed twice in one group gets its last position there.
            index.update({param: i for i, param in enumerate(group["params"], start)
                          if param not in index})
            packed["params"] = [index[param] for param in group["params"]]
            start += len(group["params"])
            groups.append(packed)
        state = {(index[key] if isinstance(key, Tensor) else key): value
                 for key, value in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Replace state and hyperparameters with those of ``state_dict``.

        Saved parameters are matched to the current ones by position only. Everything is
        deep-copied (unlike torch, which shares same-dtype tensors with the caller's dict),
        and state tensors are cast to their parameter's device and, for floating-point
        parameters, dtype; a ``'step'`` counter keeps its saved dtype and device. The saved
        hyperparameters replace the current ones, including keys the current groups lack.
        ``_step_count`` is not part of a state dict and keeps its value.

        Raises:
            TypeError: ``state_dict``, its ``'state'`` or a group is not a dict, or its
                ``'param_groups'`` is not a list.
            KeyError: ``'param_groups'``, ``'state'`` or a group's ``'params'`` is missing.
            ValueError: the number of groups or of parameters in a group differs.
        """
        _check_type(state_dict, dict, "optimizer state_dict")
        saved_groups = state_dict["param_groups"]
        _check_type(saved_groups, (list, tuple), "state_dict['param_groups']")
        for group in saved_groups:
            _check_type(group, dict, "each of state_dict['param_groups']")
        saved_groups = copy.deepcopy(list(saved_groups))
        groups = self.param_groups
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")
        saved_state = state_dict["state"]
        _check_type(saved_state, dict, "state_dict['state']")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))
        state: defaultdict[Any, dict] = defaultdict(dict)
        for key, value in saved_state.items():
            if key in id_map:
                state[id_map[key]] = _cast(id_map[key], value)
            else:  # state not tied to a parameter is kept as is, as torch does
                state[key] = copy.deepcopy(value)
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
        self.__setstate__({"state": state, "param_groups": saved_groups})


def _check_type(value, types, what: str) -> None:
    if not isinstance(value, types):
        wanted = "a dict" if types is dict else "a list"
        raise TypeError(f"{what} must be {wanted}, but got {type(value)}")


def _cast(param: Tensor, value, key=None):
    """A deep copy of one saved state value, its tensors moved next to ``param``.

    Tensors take ``param``'s device and, when ``param`` is floating point, its dtype. A
    ``'step'`` counter keeps both (torch keeps it a float32 CPU scalar even for float64
    parameters, so the bias corrections it feeds stay the same after a reload).
    """
    if isinstance(value, Tensor) or getattr(value, "is_sparse", False):
        value = value.detach()  # a sparse momentum buffer (SGD) is cast the same way
        if key == "step":
            return value.clone()
        dtype = param.dtype if param.is_floating_point() else value.dtype
        return value.to(dtype=dtype, device=param.device, copy=True)
    if isinstance(value, dict):
        return {k: _cast(param, v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(param, v) for v in value)
    return copy.deepcopy(value)
