"""Render numpy arrays exactly as PyTorch's ``repr(tensor)`` does with default print options."""

import math

import numpy as np

_PRECISION = 4
_THRESHOLD = 1000
_EDGEITEMS = 3
_LINEWIDTH = 80


class _Formatter:
    """Turns scalars into strings that share one width and one notation.

    Attributes:
        is_float: Whether the tensor has a floating-point dtype.
        int_mode: Every nonzero finite float is integer-valued (printed ``2.``).
        sci_mode: Floats are printed in scientific notation.
        width: Column width every element is right-aligned to.
    """

    def __init__(self, sample: np.ndarray):
        """Chooses notation and width from the elements that will be shown.

        Args:
            sample: The (possibly summarized) elements of the tensor.
        """
        self.is_float = sample.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        flat = sample.ravel()
        if not self.is_float:
            self.width = max([1] + [len(str(v)) for v in flat.tolist()])
            return
        # Zeros and non-finite values neither pick the notation nor set the
        # width; torch lets them overflow the column instead.
        values = flat[np.isfinite(flat) & (flat != 0)].tolist()
        if not values:
            return
        magnitudes = [abs(v) for v in values]
        smallest, largest = min(magnitudes), max(magnitudes)
        self.int_mode = all(v.is_integer() for v in values)
        # Python float division yields inf on overflow (e.g. subnormal
        # smallest), matching torch's double-precision tensor division.
        self.sci_mode = largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4
        self.width = max(len(self._text(v)) for v in values)

    def _text(self, value) -> str:
        """Formats one Python scalar without padding.

        Args:
            value: A Python ``float``, ``int`` or ``bool`` taken from the array.

        Returns:
            The element text in the chosen notation.
        """
        if not self.is_float:
            return str(value)
        if self.sci_mode:
            return f"{value:.{_PRECISION}e}"
        if self.int_mode:
            # The trailing dot marks an integer-valued float; nan/inf get none.
            return f"{value:.0f}" + ("." if math.isfinite(value) else "")
        return f"{value:.{_PRECISION}f}"

    def format(self, value) -> str:
        """Formats one Python scalar right-aligned to the common width.

        Args:
            value: A Python ``float``, ``int`` or ``bool`` taken from the array.

        Returns:
            The padded element text (never truncated).
        """
        return self._text(value).rjust(self.width)


def _edge_indices(length: int) -> list[int | None]:
    """Lists the indices shown along one axis, ``None`` marking the ellipsis.

    Args:
        length: Size of the axis.

    Returns:
        Indices to print in order.
    """
    if length <= 2 * _EDGEITEMS:
        return list(range(length))
    return list(range(_EDGEITEMS)) + [None] + list(range(length - _EDGEITEMS, length))


def _summarized(array: np.ndarray) -> np.ndarray:
    """Keeps only the edge items along every axis, i.e. the printed elements.

    Args:
        array: The full array.

    Returns:
        The sub-array whose elements decide the formatter for a summary.
    """
    for axis, length in enumerate(array.shape):
        kept = [i for i in _edge_indices(length) if i is not None]
        array = np.take(array, kept, axis=axis)
    return array


def _render_vector(array: np.ndarray, fmt: _Formatter, indent: int, summarize: bool) -> str:
    """Renders a 1-D array, wrapping so lines fit within the line width.

    Args:
        array: The 1-D array.
        fmt: Formatter shared by the whole tensor.
        indent: Column at which this vector's opening bracket sits.
        summarize: Whether to elide the middle of long axes.

    Returns:
        The bracketed vector text.
    """
    indices = _edge_indices(len(array)) if summarize else range(len(array))
    values = array.tolist()
    items = [" ..." if i is None else fmt.format(values[i]) for i in indices]
    # torch budgets by the formatter width, ignoring wider nan/inf items.
    per_line = max(1, (_LINEWIDTH - indent) // (fmt.width + 2))
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _render(array: np.ndarray, fmt: _Formatter, indent: int, summarize: bool) -> str:
    """Renders an array of any rank as nested, aligned brackets.

    Args:
        array: The non-empty array.
        fmt: Formatter shared by the whole tensor.
        indent: Column at which this array's opening bracket sits.
        summarize: Whether to elide the middle of long axes.

    Returns:
        The tensor body text, without prefix or suffixes.
    """
    if array.ndim == 0:
        return fmt.format(array.item())
    if array.ndim == 1:
        return _render_vector(array, fmt, indent, summarize)
    indices = _edge_indices(len(array)) if summarize else range(len(array))
    parts = [
        "..." if i is None else _render(array[i], fmt, indent + 1, summarize) for i in indices
    ]
    # Sub-blocks of rank k are separated by k - 1 blank lines.
    separator = "," + "\n" * (array.ndim - 1) + " " * (indent + 1)
    return "[" + separator.join(parts) + "]"


def _append_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    """Appends ``key=value`` suffixes, moving one to a new line if it would overflow.

    Args:
        text: Prefix plus tensor body.
        suffixes: Suffix strings in print order.
        indent: Indentation for a suffix that starts a new line.

    Returns:
        The complete representation including the closing parenthesis.
    """
    # torch counts the last line two characters longer than it is; keep that
    # so wrapping decisions match.
    line_length = len(text) - text.rfind("\n") + 1
    pieces = [text]
    for suffix in suffixes:
        if line_length + len(suffix) + 2 > _LINEWIDTH:
            pieces.append(",\n" + " " * indent + suffix)
            line_length = indent + len(suffix)
        else:
            pieces.append(", " + suffix)
            line_length += len(suffix) + 2
    return "".join(pieces) + ")"


def format_tensor(array, *, dtype_name: str, default_dtype_name: str = "float32",
                  device: str = "cpu", requires_grad: bool = False,
                  grad_fn_name: str | None = None, prefix: str = "tensor(") -> str:
    """Formats an array the way PyTorch prints a tensor holding it.

    Args:
        array: numpy array of any shape (bool, integer or float16/32/64 dtype).
        dtype_name: Text printed after ``dtype=``, e.g. ``"tinygrad_optim.float64"``.
        default_dtype_name: numpy name of the default float dtype, whose
            suffix is omitted.
        device: Device string; anything but ``"cpu"`` is printed.
        requires_grad: Print ``requires_grad=True`` when no ``grad_fn_name``.
        grad_fn_name: Backward node name printed as ``grad_fn=<name>``.
        prefix: Opening text; its length sets the indentation.

    Returns:
        The representation, e.g. ``"tensor([1., 2.], dtype=torch.float64)"``.
    """
    array = np.asarray(array)
    indent = len(prefix)
    suffixes = [f"device='{device}'"] if device != "cpu" else []
    kind_name = array.dtype.name
    if array.size == 0:
        # torch shows the shape unless it is (0,), and any non-default-float
        # dtype because no element hints at it.
        if array.ndim != 1:
            suffixes.append(f"size={tuple(array.shape)}")
        if kind_name != default_dtype_name:
            suffixes.append(f"dtype={dtype_name}")
        body = "[]"
    else:
        if kind_name not in (default_dtype_name, "int64", "bool"):
            suffixes.append(f"dtype={dtype_name}")
        summarize = array.size > _THRESHOLD
        fmt = _Formatter(_summarized(array) if summarize else array)
        body = _render(array, fmt, indent, summarize)
    if grad_fn_name is not None:
        suffixes.append(f"grad_fn=<{grad_fn_name}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")
    return _append_suffixes(prefix + body, suffixes, indent)
