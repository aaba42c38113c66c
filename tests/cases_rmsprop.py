"""RMSprop's registry entries: the configurations torch's own suite sweeps, and more."""
from optim_case_types import AsTensor, Case, ErrorCase

_GROUP = {"lr": 0.005}

CASES: dict[str, list[Case]] = {
    "RMSprop": [
        # The configurations torch's own suite sweeps on the CPU (common_optimizers.py) ...
        Case("default", "all defaults", {}, _GROUP),
        Case("lr", "a smaller learning rate", {"lr": 1e-3}, {"lr": 0.02, "alpha": 0.9}),
        Case("wd", "weight decay", {"weight_decay": 0.1}, {"lr": 0.005, "weight_decay": 0.01}),
        Case("maximize", "maximize", {"maximize": True}, _GROUP),
        Case("wd_centered", "weight decay, centered", {"weight_decay": 0.1, "centered": True},
             _GROUP),
        Case("maximize_wd", "maximize with weight decay", {"maximize": True,
                                                           "weight_decay": 0.1}, _GROUP),
        Case("wd_centered_momentum", "weight decay, centered, momentum",
             {"weight_decay": 0.1, "centered": True, "momentum": 0.1}, _GROUP),
        Case("wd_centered_momentum_maximize", "weight decay, centered, momentum, maximize",
             {"weight_decay": 0.1, "centered": True, "momentum": 0.1, "maximize": True},
             _GROUP),
        # ... the CUDA-only tensor lr (valid here without capturable), and more.
        Case("tensor_lr_momentum", "lr as a 0-d float32 tensor, with momentum",
             {"lr": AsTensor(0.001), "momentum": 0.9}, {"lr": 0.001, "momentum": 0.5}),
        Case("centered_small_alpha", "centered with alpha <= 0.5: lerp's second formula",
             {"centered": True, "alpha": 0.2, "lr": 0.001}, {"alpha": 0.5, "momentum": 0.5}),
        Case("groups_differ_in_keys", "one group plain, the other centered with momentum: "
             "each parameter's state has its own group's keys",
             {"lr": 0.005}, {"centered": True, "momentum": 0.9, "eps": 1e-4, "alpha": 0.9}),
        Case("lr_schedule", "momentum and centered while lr halves every LR_PERIOD steps",
             {"lr": 0.01, "momentum": 0.9, "centered": True},
             {"lr": 0.005, "weight_decay": 0.05}, lr_gamma=0.5),
        Case("tensor_lr_1d_momentum", "lr as a 1-element 1-d tensor, with momentum",
             {"lr": AsTensor([0.002]), "momentum": 0.5, "maximize": True},
             {"centered": True}),
    ],
}

ERROR_CASES: dict[str, list[ErrorCase]] = {
    "RMSprop": [
        ErrorCase("negative lr", {"lr": -1}, ValueError, r"^Invalid learning rate: -1$"),
        ErrorCase("NaN lr", {"lr": float("nan")}, ValueError, r"^Invalid learning rate: nan$"),
        ErrorCase("negative tensor lr", {"lr": AsTensor(-0.5)}, ValueError,
                  r"^Invalid learning rate: -0\.5$"),
        ErrorCase("tensor lr with two elements", {"lr": AsTensor([0.001, 0.001])}, ValueError,
                  r"^Tensor lr must be 1-element$"),
        ErrorCase("negative eps", {"eps": -1e-8}, ValueError, r"^Invalid epsilon value: -1e-08$"),
        ErrorCase("negative momentum", {"lr": 1e-2, "momentum": -1.0}, ValueError,
                  r"^Invalid momentum value: -1\.0$"),
        ErrorCase("negative weight decay", {"weight_decay": -0.1}, ValueError,
                  r"^Invalid weight_decay value: -0\.1$"),
        ErrorCase("negative alpha", {"alpha": -0.5}, ValueError, r"^Invalid alpha value: -0\.5$"),
        ErrorCase("NaN alpha", {"alpha": float("nan")}, ValueError,
                  r"^Invalid alpha value: nan$"),
        ErrorCase("lr is checked before eps", {"lr": -1, "eps": -1}, ValueError,
                  r"^Invalid learning rate: -1$"),
        ErrorCase("eps is checked before momentum", {"eps": -1, "momentum": -1}, ValueError,
                  r"^Invalid epsilon value: -1$"),
        ErrorCase("momentum is checked before weight_decay",
                  {"momentum": -1, "weight_decay": -1}, ValueError,
                  r"^Invalid momentum value: -1$"),
        ErrorCase("weight_decay is checked before alpha", {"weight_decay": -1, "alpha": -1},
                  ValueError, r"^Invalid weight_decay value: -1$"),
    ],
}
