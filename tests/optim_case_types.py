"""The records of the optimizer test registry: constructor cases, error cases, tensor values."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class AsTensor:
    """A hyperparameter given as a tensor: made by ``lib.tensor(value)`` in either library."""

    value: float | list

    def __repr__(self):
        return f"tensor({self.value!r})"


@dataclass(frozen=True)
class Case:
    """One constructor configuration, run on two param groups.

    Attributes:
        id: stable key of the case in the fixture file.
        description: what the case exercises.
        kwargs: constructor keyword arguments (group 0 uses them as they are).
        second_group: hyperparameters that group 1 sets for itself.
        lr_gamma: every ``LR_PERIOD`` steps each group's lr is multiplied by this, as a step
            scheduler would; 1 leaves lr alone.
    """

    id: str
    description: str
    kwargs: dict
    second_group: dict = field(default_factory=dict)
    lr_gamma: float = 1.0

    def signature(self) -> str:
        """Everything that shapes the trajectory: stored in the fixture to detect staleness."""
        return repr((self.kwargs, self.second_group, self.lr_gamma))


@dataclass(frozen=True)
class ErrorCase:
    """Constructor kwargs that torch rejects on a valid parameter list."""

    description: str
    kwargs: dict
    exception: type
    match: str  # a regex for the message, which is torch's
