"""The registry entries of this optimizer (see optim_cases.py)."""
from optim_case_types import AsTensor, Case, ErrorCase  # noqa: F401  (used as entries arrive)

CASES: dict[str, list[Case]] = {}
ERROR_CASES: dict[str, list[ErrorCase]] = {}
