"""ASGD's registry entries: the configurations torch's own suite sweeps, and more."""
from optim_case_types import AsTensor, Case, ErrorCase

# Every second group averages (t0=2: mu < 1 from step 4 on), so ax is checked in every case.
_AVERAGING = {"lr": 0.03, "t0": 2}

CASES: dict[str, list[Case]] = {
    "ASGD": [
        # The configurations torch's own suite sweeps on the CPU (common_optimizers.py) ...
        Case("default", "all defaults", {}, _AVERAGING),
        Case("lambd", "a strong decay", {"lambd": 0.1}, {"lr": 0.03, "t0": 5, "lambd": 0.01}),
        Case("lr", "a larger learning rate", {"lr": 0.02}, _AVERAGING),
        Case("t0", "averaging from step 100", {"t0": 100}, {"t0": 0.5, "alpha": 0.5}),
        Case("maximize", "maximize", {"maximize": True}, _AVERAGING),
        Case("wd", "weight decay", {"weight_decay": 0.1}, {"weight_decay": 0.5, "t0": 3}),
        Case("wd_maximize", "weight decay while maximizing",
             {"weight_decay": 0.1, "maximize": True}, _AVERAGING),
        # ... and more.
        Case("tensor_lr_wd_maximize", "lr as a 0-d float32 tensor: eta in float32 arithmetic",
             {"lr": AsTensor(0.001), "weight_decay": 0.1, "maximize": True}, _AVERAGING),
        Case("tensor_lr_1d", "lr as a 1-element 1-d tensor, with averaging in both groups",
             {"lr": AsTensor([0.05]), "lambd": 0.01, "t0": 10}, {"lr": 0.01, "t0": 1}),
        Case("averaging", "averaging from the start, a fast-decaying step",
             {"lr": 0.05, "lambd": 0.5, "alpha": 1.0, "t0": 0}, {"lr": 0.1, "alpha": 0.25}),
        Case("lr_schedule", "lr halves every LR_PERIOD steps: eta follows, a step late",
             {"lr": 0.05, "t0": 20}, {"lr": 0.02, "weight_decay": 0.05, "t0": 2},
             lr_gamma=0.5),
        Case("wd_maximize_averaging", "weight decay, maximize and averaging together",
             {"lr": 0.02, "lambd": 1e-3, "weight_decay": 0.01, "maximize": True, "t0": 7},
             {"lr": 0.05, "maximize": False, "t0": 40}),
    ],
}

ERROR_CASES: dict[str, list[ErrorCase]] = {
    "ASGD": [
        ErrorCase("negative lr", {"lr": -1}, ValueError, r"^Invalid learning rate: -1$"),
        ErrorCase("NaN lr", {"lr": float("nan")}, ValueError, r"^Invalid learning rate: nan$"),
        ErrorCase("negative tensor lr", {"lr": AsTensor(-0.5)}, ValueError,
                  r"^Invalid learning rate: -0\.5$"),
        ErrorCase("tensor lr with two elements", {"lr": AsTensor([0.001, 0.001])}, ValueError,
                  r"^Tensor lr must be 1-element$"),
        ErrorCase("negative weight decay", {"lr": 1e-2, "weight_decay": -0.5}, ValueError,
                  r"^Invalid weight_decay value: -0\.5$"),
        ErrorCase("NaN weight decay", {"weight_decay": float("nan")}, ValueError,
                  r"^Invalid weight_decay value: nan$"),
        ErrorCase("lr is checked before weight decay", {"lr": -1, "weight_decay": -1},
                  ValueError, r"^Invalid learning rate: -1$"),
        ErrorCase("the lr size is checked before weight decay",
                  {"lr": AsTensor([0.1, 0.1]), "weight_decay": -1}, ValueError,
                  r"^Tensor lr must be 1-element$"),
    ],
}
