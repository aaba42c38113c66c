"""Adadelta's registry entries: the configurations torch's own suite sweeps, and more."""
from optim_case_types import AsTensor, Case, ErrorCase

_GROUP = {"lr": 0.5}

CASES: dict[str, list[Case]] = {
    "Adadelta": [
        # The configurations torch's own suite sweeps on the CPU (common_optimizers.py) ...
        Case("default", "all defaults", {}, _GROUP),
        Case("lr", "a smaller learning rate", {"lr": 0.01}, {"lr": 2.0, "rho": 0.8}),
        Case("wd", "weight decay", {"weight_decay": 0.1}, {"lr": 0.5, "weight_decay": 0.01}),
        Case("maximize", "maximize", {"maximize": True}, _GROUP),
        Case("wd_maximize", "weight decay while maximizing",
             {"weight_decay": 0.1, "maximize": True}, _GROUP),
        Case("rho_wd", "a larger rho with strong weight decay",
             {"rho": 0.95, "weight_decay": 0.9}, _GROUP),
        # ... the CUDA-only tensor lr (valid here without capturable), and more.
        Case("tensor_lr", "lr as a 0-d float32 tensor (steps by float32(0.3))",
             {"lr": AsTensor(0.3)}, {"rho": 0.5}),
        Case("eps_rho", "a large eps and a small rho; the other group the reverse",
             {"eps": 1e-3, "rho": 0.5}, {"eps": 1e-8, "rho": 0.99}),
        Case("rho_bounds", "rho = 0 (no memory) and rho = 1 (plain gradient descent)",
             {"rho": 0.0, "lr": 0.5}, {"rho": 1.0, "lr": 0.01}),
        Case("lr_schedule", "weight decay while lr halves every LR_PERIOD steps",
             {"weight_decay": 0.01}, {"lr": 0.5, "maximize": True}, lr_gamma=0.5),
        Case("tensor_lr_1d_wd_maximize", "lr as a 1-element 1-d tensor, weight decay, maximize",
             {"lr": AsTensor([2.0]), "weight_decay": 0.05, "maximize": True}, {"eps": 1e-4}),
    ],
}

ERROR_CASES: dict[str, list[ErrorCase]] = {
    "Adadelta": [
        ErrorCase("negative lr", {"lr": -1}, ValueError, r"^Invalid learning rate: -1$"),
        ErrorCase("NaN lr", {"lr": float("nan")}, ValueError, r"^Invalid learning rate: nan$"),
        ErrorCase("negative tensor lr", {"lr": AsTensor(-0.5)}, ValueError,
                  r"^Invalid learning rate: -0\.5$"),
        ErrorCase("tensor lr with two elements", {"lr": AsTensor([0.001, 0.001])}, ValueError,
                  r"^Tensor lr must be 1-element$"),
        ErrorCase("rho above 1", {"lr": 1e-2, "rho": 1.1}, ValueError,
                  r"^Invalid rho value: 1\.1$"),
        ErrorCase("negative rho", {"rho": -0.1}, ValueError, r"^Invalid rho value: -0\.1$"),
        ErrorCase("NaN rho", {"rho": float("nan")}, ValueError, r"^Invalid rho value: nan$"),
        ErrorCase("negative eps", {"eps": -1e-6}, ValueError, r"^Invalid epsilon value: -1e-06$"),
        ErrorCase("negative weight decay", {"weight_decay": -0.1}, ValueError,
                  r"^Invalid weight_decay value: -0\.1$"),
        ErrorCase("lr is checked before rho", {"lr": -1, "rho": 2}, ValueError,
                  r"^Invalid learning rate: -1$"),
        ErrorCase("rho is checked before eps", {"rho": 2, "eps": -1}, ValueError,
                  r"^Invalid rho value: 2$"),
        ErrorCase("eps is checked before weight_decay", {"eps": -1, "weight_decay": -1},
                  ValueError, r"^Invalid epsilon value: -1$"),
    ],
}
