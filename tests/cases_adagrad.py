"""Adagrad's registry entries: the configurations torch's own suite sweeps, and more."""
from optim_case_types import AsTensor, Case, ErrorCase

_GROUP = {"lr": 0.05}

CASES: dict[str, list[Case]] = {
    "Adagrad": [
        # The configurations torch's own suite sweeps (common_optimizers.py) ...
        Case("default", "all defaults", {}, _GROUP),
        Case("wd", "weight decay", {"weight_decay": 0.1}, {"lr": 0.05, "weight_decay": 0.01}),
        Case("wd_maximize", "weight decay while maximizing",
             {"weight_decay": 0.1, "maximize": True}, _GROUP),
        Case("lr", "a larger learning rate", {"lr": 0.1}, {"lr": 0.02, "eps": 1e-3}),
        Case("init_acc_wd", "a nonzero initial accumulator with weight decay",
             {"initial_accumulator_value": 0.1, "weight_decay": 0.1}, _GROUP),
        Case("lr_decay_wd", "learning-rate decay with weight decay",
             {"lr": 0.1, "lr_decay": 0.5, "weight_decay": 0.1}, {"lr_decay": 0.01}),
        Case("tensor_lr", "lr as a 0-d float32 tensor (steps by float32(0.001))",
             {"lr": AsTensor(0.001)}, _GROUP),
        # ... and more.
        Case("group_init_acc_ignored", "a group's initial_accumulator_value is not used: "
             "state is made in the constructor with the constructor's value",
             {"initial_accumulator_value": 0.1}, {"lr": 0.05, "initial_accumulator_value": 5.0}),
        Case("maximize", "maximize without weight decay", {"lr": 0.05, "maximize": True},
             {"maximize": False}),
        Case("tensor_lr_decay", "a tensor lr decayed: the division is float32 arithmetic",
             {"lr": AsTensor(0.05), "lr_decay": 0.3}, {"lr_decay": 0.01}),
        Case("lr_schedule", "lr decay while lr halves every LR_PERIOD steps",
             {"lr": 0.1, "lr_decay": 0.05}, {"lr": 0.2, "weight_decay": 0.05}, lr_gamma=0.5),
        Case("eps_wd_maximize", "a large eps, weight decay and maximize together",
             {"lr": 0.05, "eps": 0.1, "weight_decay": 0.05, "maximize": True},
             {"eps": 1e-4, "lr_decay": 0.1, "maximize": False}),
        Case("tensor_lr_1d", "lr as a 1-element 1-d tensor, with lr decay",
             {"lr": AsTensor([0.02]), "lr_decay": 0.1}, {"weight_decay": 0.2}),
    ],
}

ERROR_CASES: dict[str, list[ErrorCase]] = {
    "Adagrad": [
        ErrorCase("negative lr", {"lr": -1}, ValueError, r"^Invalid learning rate: -1$"),
        ErrorCase("NaN lr", {"lr": float("nan")}, ValueError, r"^Invalid learning rate: nan$"),
        ErrorCase("negative tensor lr", {"lr": AsTensor(-0.5)}, ValueError,
                  r"^Invalid learning rate: -0\.5$"),
        ErrorCase("tensor lr with two elements", {"lr": AsTensor([0.001, 0.001])}, ValueError,
                  r"^Tensor lr must be 1-element$"),
        ErrorCase("negative lr_decay", {"lr": 1e-2, "lr_decay": -0.5}, ValueError,
                  r"^Invalid lr_decay value: -0\.5$"),
        ErrorCase("negative weight decay", {"weight_decay": -0.1}, ValueError,
                  r"^Invalid weight_decay value: -0\.1$"),
        ErrorCase("negative initial accumulator", {"initial_accumulator_value": -0.1},
                  ValueError, r"^Invalid initial_accumulator_value value: -0\.1$"),
        ErrorCase("negative eps", {"eps": -1e-10}, ValueError,
                  r"^Invalid epsilon value: -1e-10$"),
        ErrorCase("NaN eps", {"eps": float("nan")}, ValueError, r"^Invalid epsilon value: nan$"),
        ErrorCase("the element count is checked before the sign",
                  {"lr": AsTensor([-1.0, -1.0])}, ValueError, r"^Tensor lr must be 1-element$"),
        ErrorCase("lr is checked before lr_decay", {"lr": -1, "lr_decay": -1}, ValueError,
                  r"^Invalid learning rate: -1$"),
        ErrorCase("lr_decay is checked before weight_decay",
                  {"lr_decay": -1, "weight_decay": -1}, ValueError,
                  r"^Invalid lr_decay value: -1$"),
        ErrorCase("weight_decay is checked before initial_accumulator_value",
                  {"weight_decay": -1, "initial_accumulator_value": -1}, ValueError,
                  r"^Invalid weight_decay value: -1$"),
        ErrorCase("initial_accumulator_value is checked before eps",
                  {"initial_accumulator_value": -1, "eps": -1}, ValueError,
                  r"^Invalid initial_accumulator_value value: -1$"),
    ],
}
