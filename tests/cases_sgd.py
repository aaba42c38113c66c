"""SGD's registry entries: the configurations torch's own suite sweeps, and more."""
from optim_case_types import AsTensor, Case, ErrorCase

_SGD_GROUP = {"lr": 0.05}

CASES: dict[str, list[Case]] = {
    "SGD": [
        # The configurations torch's own suite sweeps (common_optimizers.py) ...
        Case("default", "all defaults", {}, _SGD_GROUP),
        Case("lr", "a larger learning rate", {"lr": 1e-2}, {"lr": 0.03, "momentum": 0.5}),
        Case("tensor_lr", "lr as a 0-d float32 tensor (steps by float32(0.001))",
             {"lr": AsTensor(0.001)}, _SGD_GROUP),
        Case("wd", "weight decay", {"weight_decay": 0.5}, {"lr": 0.05, "weight_decay": 0.1}),
        Case("momentum", "momentum", {"momentum": 0.9}, {"lr": 0.05, "momentum": 0.5}),
        Case("wd_maximize", "weight decay while maximizing",
             {"weight_decay": 0.1, "maximize": True}, _SGD_GROUP),
        Case("dampening", "momentum with dampening", {"momentum": 0.9, "dampening": 0.5},
             {"lr": 0.05, "dampening": 0.1}),
        Case("momentum_wd", "momentum with weight decay", {"momentum": 0.9, "weight_decay": 0.1},
             {"lr": 0.05, "momentum": 0}),
        Case("nesterov_wd", "Nesterov momentum with weight decay",
             {"momentum": 0.9, "nesterov": True, "weight_decay": 0.1},
             {"lr": 0.05, "momentum": 0.6}),
        # ... and more.
        Case("nesterov_wd_maximize", "Nesterov momentum, weight decay and maximize",
             {"lr": 0.01, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1,
              "maximize": True}, {"lr": 0.02, "weight_decay": 0.01}),
        Case("nesterov", "plain Nesterov momentum", {"lr": 0.01, "momentum": 0.5,
                                                     "nesterov": True}, _SGD_GROUP),
        Case("dampening_wd_maximize", "dampening, weight decay and maximize together",
             {"lr": 0.01, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.01,
              "maximize": True}, {"lr": 0.02, "momentum": 0.95, "dampening": 0}),
        Case("momentum_lr_schedule", "momentum while lr halves every LR_PERIOD steps",
             {"lr": 0.05, "momentum": 0.9}, {"lr": 0.1, "weight_decay": 0.05}, lr_gamma=0.5),
        Case("tensor_lr_1d_momentum", "lr as a 1-element 1-d tensor, with momentum",
             {"lr": AsTensor([0.01]), "momentum": 0.9}, {"momentum": 0.3}),
    ],
}

ERROR_CASES: dict[str, list[ErrorCase]] = {
    "SGD": [
        ErrorCase("negative lr", {"lr": -1}, ValueError, r"^Invalid learning rate: -1$"),
        ErrorCase("negative tensor lr", {"lr": AsTensor(-0.5)}, ValueError,
                  r"^Invalid learning rate: -0\.5$"),
        ErrorCase("tensor lr with two elements", {"lr": AsTensor([0.001, 0.001])}, ValueError,
                  r"^Tensor lr must be 1-element$"),
        ErrorCase("negative momentum", {"lr": 1e-2, "momentum": -0.5}, ValueError,
                  r"^Invalid momentum value: -0\.5$"),
        ErrorCase("negative weight decay", {"weight_decay": -1e-3}, ValueError,
                  r"^Invalid weight_decay value: -0\.001$"),
        ErrorCase("nesterov without momentum", {"nesterov": True}, ValueError,
                  r"^Nesterov momentum requires a momentum and zero dampening$"),
        ErrorCase("nesterov with dampening", {"momentum": 0.9, "dampening": 0.1,
                                              "nesterov": True}, ValueError,
                  r"^Nesterov momentum requires a momentum and zero dampening$"),
        ErrorCase("lr is checked before momentum", {"lr": -1, "momentum": -1}, ValueError,
                  r"^Invalid learning rate: -1$"),
        ErrorCase("momentum is checked before nesterov", {"momentum": -1, "nesterov": True},
                  ValueError, r"^Invalid momentum value: -1$"),
    ],
}
