"""Adamax's registry entries: the configurations torch's own suite sweeps, and more."""
from optim_case_types import AsTensor, Case, ErrorCase

_GROUP = {"lr": 0.05, "betas": (0.8, 0.99)}

CASES: dict[str, list[Case]] = {
    "Adamax": [
        # The configurations torch's own suite sweeps on the CPU (common_optimizers.py) ...
        Case("default", "all defaults", {}, _GROUP),
        Case("lr", "a larger learning rate", {"lr": 0.1}, {"lr": 0.01, "eps": 1e-3}),
        Case("wd", "weight decay", {"weight_decay": 0.1}, {"lr": 0.05, "weight_decay": 0.5}),
        Case("maximize", "maximize", {"maximize": True}, _GROUP),
        Case("wd_maximize", "weight decay while maximizing",
             {"weight_decay": 0.1, "maximize": True}, {"lr": 0.05, "maximize": False}),
        # ... and more.
        Case("tensor_lr", "lr as a 0-d float32 tensor: float32 clr", {"lr": AsTensor(0.001)},
             {"betas": (0.5, 0.9)}),
        Case("tensor_lr_1d_wd_maximize", "lr as a 1-element 1-d tensor, decay and maximize",
             {"lr": AsTensor([0.01]), "weight_decay": 0.3, "maximize": True},
             {"weight_decay": 0.01}),
        Case("small_betas", "betas below 0.5 (lerp's second branch) and a large eps",
             {"lr": 0.01, "betas": (0.3, 0.45), "eps": 1e-3}, {"lr": 0.02}),
        Case("int_betas", "betas (0, 0), as ints: sign descent with u = |d| + eps",
             {"lr": 0.01, "betas": (0, 0)}, {"betas": (0.9, 0)}),
        Case("wd_lr_schedule", "weight decay while lr halves every LR_PERIOD steps",
             {"lr": 0.05, "weight_decay": 0.05}, {"lr": 0.1, "betas": (0.95, 0.9)},
             lr_gamma=0.5),
    ],
}

ERROR_CASES: dict[str, list[ErrorCase]] = {
    "Adamax": [
        ErrorCase("negative lr", {"lr": -1}, ValueError, r"^Invalid learning rate: -1$"),
        ErrorCase("nan lr", {"lr": float("nan")}, ValueError, r"^Invalid learning rate: nan$"),
        ErrorCase("negative tensor lr", {"lr": AsTensor(-0.5)}, ValueError,
                  r"^Invalid learning rate: -0\.5$"),
        ErrorCase("tensor lr with two elements", {"lr": AsTensor([0.001, 0.001])}, ValueError,
                  r"^Tensor lr must be 1-element$"),
        ErrorCase("negative eps", {"eps": -1e-8}, ValueError, r"^Invalid epsilon value: -1e-08$"),
        ErrorCase("beta1 of 1", {"betas": (1.0, 0.5)}, ValueError,
                  r"^Invalid beta parameter at index 0: 1\.0$"),
        ErrorCase("negative beta1", {"betas": (-0.5, 0.5)}, ValueError,
                  r"^Invalid beta parameter at index 0: -0\.5$"),
        ErrorCase("beta2 of 1", {"lr": 1e-2, "betas": (0.0, 1.0)}, ValueError,
                  r"^Invalid beta parameter at index 1: 1\.0$"),
        ErrorCase("nan beta2", {"betas": (0.9, float("nan"))}, ValueError,
                  r"^Invalid beta parameter at index 1: nan$"),
        ErrorCase("negative weight decay", {"weight_decay": -0.1}, ValueError,
                  r"^Invalid weight_decay value: -0\.1$"),
        ErrorCase("tensor lr size is checked before its sign", {"lr": AsTensor([-1.0, -1.0])},
                  ValueError, r"^Tensor lr must be 1-element$"),
        ErrorCase("lr is checked before eps", {"lr": -1, "eps": -1}, ValueError,
                  r"^Invalid learning rate: -1$"),
        ErrorCase("eps is checked before betas", {"eps": -1, "betas": (1, 1)}, ValueError,
                  r"^Invalid epsilon value: -1$"),
        ErrorCase("beta1 is checked before beta2", {"betas": (1, 1)}, ValueError,
                  r"^Invalid beta parameter at index 0: 1$"),
        ErrorCase("betas are checked before weight decay",
                  {"betas": (0.9, 2.0), "weight_decay": -1}, ValueError,
                  r"^Invalid beta parameter at index 1: 2\.0$"),
    ],
}
