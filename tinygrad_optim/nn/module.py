"""Module: the base of layers; registers parameters, buffers and sub-modules in order."""
from __future__ import annotations

import collections
from typing import Iterator

from .. import dtypes, grad_mode
from ..backend import as_device
from ..tensor import Tensor
from .parameter import Parameter


class _IncompatibleKeys(collections.namedtuple("IncompatibleKeys",
                                               ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys it missed and the keys it did not know."""

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _typename(value) -> str:
    """torch.typename: ``torch.FloatTensor`` for a tensor, the class name otherwise."""
    return dtypes.type_name(value.dtype) if isinstance(value, Tensor) else type(value).__name__


class Module:
    """Base class of every layer: subclasses set attributes in ``__init__`` and define forward.

    Assigning a :class:`Parameter`, a buffer or a ``Module`` to an attribute registers it, in
    assignment order, which fixes the order of ``parameters()`` and of ``state_dict()``.

    Example:
        >>> class Affine(Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.scale = Parameter(ones(3))
        ...     def forward(self, x):
        ...         return x * self.scale
    """

    training: bool

    def __init__(self):
        # Set through object.__setattr__: our own __setattr__ needs these dicts to exist.
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", {})

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                                  '"forward" function')

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # ---------------------------------------------------------------- registration
    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add ``param`` (or a None placeholder) under ``name``."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        self._check_new_name("parameter", name, self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_typename(param)}' object to parameter '{name}' "
                            "(torch.nn.Parameter or None required)")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a tensor that is state but not a parameter (saved in state_dict if persistent)."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        self._check_new_name("buffer", name, self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_typename(tensor)}' object to buffer '{name}' "
                            "(torch Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module under ``name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{_typename(module)} is not a Module subclass")
        self._check_new_name("module", name, self._modules)
        self._modules[name] = module

    def _check_new_name(self, kind, name, registry):
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
        if "." in name:
            raise KeyError(f'{kind} name can\'t contain "."')
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')
        if hasattr(self, name) and name not in registry:
            raise KeyError(f"attribute '{name}' already exists")

    def __setattr__(self, name, value):
        d = self.__dict__
        params, modules, buffers = d.get("_parameters"), d.get("_modules"), d.get("_buffers")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as parameter '{name}' "
                                "(torch.nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name)
            modules[name] = value
        elif modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as child module '{name}' "
                                "(torch.nn.Module or None expected)")
            modules[name] = None
        elif buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{_typename(value)}' as buffer '{name}' "
                                "(torch.Tensor or None expected)")
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name):
        """Drop ``name`` from wherever it is, before it is registered as something else."""
        self.__dict__.pop(name, None)
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def __getattr__(self, name):
        # Only called when normal lookup fails: registered names live in the three dicts.
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            registry = d.get(key)
            if registry is not None and name in registry:
                return registry[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    # ---------------------------------------------------------------- traversal
    def named_modules(self, memo=None, prefix: str = "", remove_duplicate: bool = True):
        """This module and every descendant, depth first in registration order."""
        memo = set() if memo is None else memo
        stack = [(prefix, self)]
        while stack:  # an explicit stack: no recursion limit on deep nesting
            name, module = stack.pop()
            if remove_duplicate:
                if module in memo:
                    continue
                memo.add(module)
            yield name, module
            children = [(f"{name}.{key}" if name else key, child)
                        for key, child in module._modules.items() if child is not None]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        seen = set()
        for name, module in self._modules.items():
            if module is not None and module not in seen:
                seen.add(module)
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry, prefix, recurse, remove_duplicate=True):
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        seen = set()
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or (remove_duplicate and value in seen):
                    continue
                seen.add(value)
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True):
        """``(name, parameter)`` pairs, named and ordered as torch names and orders them."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True):
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    # ---------------------------------------------------------------- modes and gradients
    def train(self, mode: bool = True):
        """Set training mode on this module and every descendant; returns self."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for module in self.modules():
            module.training = mode
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's ``.grad``: drop it (default) or fill it with zeros."""
        for param in self.parameters():
            grad = param.grad
            if grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                grad.detach_()
                grad.zero_()

    # ---------------------------------------------------------------- state
    def _local_state(self):
        """This module's own entries of state_dict (persistent buffers included), in order."""
        yield from ((n, p) for n, p in self._parameters.items() if p is not None)
        yield from ((n, b) for n, b in self._buffers.items()
                    if b is not None and n not in self._non_persistent_buffers_set)

    def _state_items(self, prefix=""):
        """Every ``(key, tensor)`` of the state, without de-duplicating shared modules."""
        stack = [(prefix, self)]
        while stack:
            module_prefix, module = stack.pop()
            for name, value in module._local_state():
                yield module_prefix + name, value
            children = [(f"{module_prefix}{key}.", child)
                        for key, child in module._modules.items() if child is not None]
            stack.extend(reversed(children))

    def state_dict(self, *, prefix: str = "", keep_vars: bool = False):
        """An OrderedDict of every parameter and persistent buffer, sharing their storage."""
        return collections.OrderedDict(
            (key, value if keep_vars else value.detach())
            for key, value in self._state_items(prefix))

    def load_state_dict(self, state_dict, strict: bool = True):
        """Copy the tensors of ``state_dict`` into this module's parameters and buffers.

        Returns:
            ``(missing_keys, unexpected_keys)``, which print as torch's.

        Raises:
            RuntimeError: with every problem listed, on a missing or unexpected key (when
                ``strict``), a value that is not a tensor, or a shape mismatch.
        """
        own = collections.OrderedDict(self._state_items())
        errors = []
        with grad_mode.no_grad():
            for key, target in own.items():
                if key not in state_dict:
                    continue
                value = state_dict[key]
                if not isinstance(value, Tensor):
                    errors.append(f'While copying the parameter named "{key}", expected '
                                  "torch.Tensor or Tensor-like object from checkpoint but "
                                  f"received {type(value)}")
                elif value.shape != target.shape:
                    errors.append(f"size mismatch for {key}: copying a param with shape "
                                  f"{value.shape!r} from checkpoint, the shape in current "
                                  f"model is {target.shape!r}.")
                else:
                    target.copy_(value)
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own]
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in unexpected)))
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in missing)))
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        return _IncompatibleKeys(missing, unexpected)

    def to(self, *args, dtype=None, device=None, non_blocking: bool = False):
        """Move (and cast floating) parameters and buffers in place; returns self.

        Takes torch's forms: ``to(device)``, ``to(dtype)``, ``to(device, dtype)``,
        ``to(tensor)`` (its dtype and device), the same as keywords, and ``non_blocking``,
        accepted for torch code and ignored: every copy here is synchronous. Parameters stay
        the same objects, so an optimizer made before still holds them.

        Raises:
            TypeError: for a dtype that is not floating point (torch's message).
        """
        del non_blocking  # every copy here is synchronous
        for arg in args:
            if isinstance(arg, bool):
                continue  # non_blocking given by position; as an int it would name a GPU
            if isinstance(arg, Tensor):
                dtype, device = arg.dtype, arg.device
            elif isinstance(arg, dtypes.dtype):
                dtype = arg
            else:
                device = arg
        if dtype is not None and not dtype.is_floating_point:
            raise TypeError("nn.Module.to only accepts floating point or complex dtypes, but "
                            f"got desired dtype={dtype}")
        device = None if device is None else as_device(device)
        for tensor in list(self.parameters()) + list(self.buffers()):
            cast = dtype if dtype is not None and tensor.is_floating_point() else None
            tensor.data = tensor.data.to(dtype=cast, device=device)
            if tensor.grad is not None:
                tensor.grad.data = tensor.grad.data.to(dtype=cast, device=device)
        return self

    def cpu(self):
        """``to("cpu")``."""
        return self.to(device="cpu")

    def cuda(self, device=None):
        """``to(device)`` on a GPU: the first one by default, or ``cuda:<device>``."""
        return self.to(device="cuda" if device is None else device)

    def float(self):
        """Cast floating parameters and buffers to float32; returns self."""
        return self.to(dtype=dtypes.float32)

    def double(self):
        """Cast floating parameters and buffers to float64; returns self."""
        return self.to(dtype=dtypes.float64)

    def requires_grad_(self, requires_grad: bool = True):
        """Switch gradient recording of every parameter on or off (to freeze layers)."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def apply(self, fn):
        """Call ``fn`` on every child (depth first, children before parents), then on self.

        The order is torch's, so that an initialisation drawn from the seeded generator
        visits the modules in the same order.
        """
        stack = [(self, False)]
        while stack:  # torch recurses; an explicit stack visits in the same post-order
            module, children_done = stack.pop()
            if children_done:
                fn(module)
                continue
            stack.append((module, True))
            stack.extend((child, False) for child in reversed(list(module.children())))
        return self

    # ---------------------------------------------------------------- printing
    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr; subclasses override it."""
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = []
        for key, module in self._modules.items():
            text = repr(module).replace("\n", "\n  ")
            child_lines.append(f"({key}): {text}")
        lines = extra_lines + child_lines
        body = ""
        if len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        elif lines:
            body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{type(self).__name__}({body})"
