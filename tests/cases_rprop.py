"""Rprop's registry entries: the configurations torch's own suite sweeps, and more."""
from optim_case_types import AsTensor, Case, ErrorCase

_OTHER_GROUP = {"lr": 0.05, "etas": (0.3, 1.5)}

CASES: dict[str, list[Case]] = {
    "Rprop": [
        # The configurations torch's own suite sweeps on the CPU (common_optimizers.py) ...
        Case("default", "all defaults", {}, _OTHER_GROUP),
        Case("lr", "a small initial step", {"lr": 2e-4}, _OTHER_GROUP),
        Case("etas", "faster growth", {"etas": (0.5, 1.5)}, {"etas": (0.1, 1.01)}),
        Case("step_sizes", "other bounds", {"step_sizes": (2e-6, 100)},
             {"step_sizes": (0.02, 0.03)}),
        Case("maximize", "maximize", {"maximize": True}, _OTHER_GROUP),
        # ... and more.
        Case("clamped", "both bounds active",
             {"lr": 0.3, "etas": (0.3, 1.7), "step_sizes": (0.05, 0.5)}, _OTHER_GROUP),
        Case("tensor_lr", "lr as a 0-d float32 tensor (read once, at state creation)",
             {"lr": AsTensor(0.001)}, _OTHER_GROUP),
        Case("tensor_lr_1d_maximize", "lr as a 1-element 1-d tensor, maximizing",
             {"lr": AsTensor([0.02]), "maximize": True}, {"maximize": False}),
        Case("lr_schedule", "lr shrinks tenfold every LR_PERIOD steps: step sizes ignore it",
             {"lr": 0.01}, _OTHER_GROUP, lr_gamma=0.1),
        Case("maximize_narrow", "maximize with narrow bounds and gentle factors",
             {"maximize": True, "etas": (0.9, 1.1), "step_sizes": (1e-3, 0.02)},
             {"lr": 1e-3, "step_sizes": (0.0, 1e-2)}),
        Case("etas_near_one", "etas that round to 1 in float32: torch's float32 run never "
             "moves (every factor equals etaminus, so every direction is zeroed)",
             {"etas": (1 - 1e-8, 1 + 1e-8)}, _OTHER_GROUP),
    ],
}

ERROR_CASES: dict[str, list[ErrorCase]] = {
    "Rprop": [
        ErrorCase("negative lr", {"lr": -1}, ValueError, r"^Invalid learning rate: -1$"),
        ErrorCase("NaN lr", {"lr": float("nan")}, ValueError, r"^Invalid learning rate: nan$"),
        ErrorCase("negative tensor lr", {"lr": AsTensor(-0.5)}, ValueError,
                  r"^Invalid learning rate: -0\.5$"),
        ErrorCase("tensor lr with two elements", {"lr": AsTensor([0.001, 0.001])}, ValueError,
                  r"^Tensor lr must be 1-element$"),
        ErrorCase("etas in the wrong order", {"lr": 1e-2, "etas": (1.0, 0.5)}, ValueError,
                  r"^Invalid eta values: 1\.0, 0\.5$"),
        ErrorCase("a zero etaminus", {"etas": (0.0, 1.2)}, ValueError,
                  r"^Invalid eta values: 0\.0, 1\.2$"),
        ErrorCase("an etaplus of 1", {"etas": (0.5, 1)}, ValueError,
                  r"^Invalid eta values: 0\.5, 1$"),
        ErrorCase("an etaminus above 1", {"etas": (1.5, 2.0)}, ValueError,
                  r"^Invalid eta values: 1\.5, 2\.0$"),
        ErrorCase("a NaN eta", {"etas": (0.5, float("nan"))}, ValueError,
                  r"^Invalid eta values: 0\.5, nan$"),
        ErrorCase("lr is checked before etas", {"lr": -1, "etas": (2.0, 1.0)}, ValueError,
                  r"^Invalid learning rate: -1$"),
    ],
}
