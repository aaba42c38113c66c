"""Adam's and AdamW's registry entries: the configurations torch's own suite sweeps, and more.

Tensor betas are not expressible here (``materialize`` makes top-level values tensors only);
tests/test_adam.py compares them with torch directly.
"""
from optim_case_types import AsTensor, Case, ErrorCase

_GROUP = {"lr": 0.05, "betas": (0.8, 0.99)}


def _shared_cases(name: str) -> list:
    """torch's CPU configurations for Adam, which its suite also runs for AdamW."""
    return [
        Case("default", f"all {name} defaults", {}, _GROUP),
        Case("lr", "a larger learning rate", {"lr": 1e-2}, {"lr": 0.03, "eps": 1e-3}),
        Case("wd", "weight decay", {"weight_decay": 0.1}, {"lr": 0.05, "weight_decay": 0.5}),
        Case("wd_maximize", "weight decay while maximizing",
             {"weight_decay": 0.1, "maximize": True}, {"lr": 0.05, "maximize": False}),
        Case("wd_amsgrad", "weight decay with AMSGrad", {"weight_decay": 0.1, "amsgrad": True},
             {"lr": 0.05, "amsgrad": False}),
    ]


def _tensor_lr_cases() -> list:
    return [
        Case("tensor_lr", "lr as a 0-d float32 tensor: float32 step size",
             {"lr": AsTensor(0.001)}, {"betas": (0.5, 0.9)}),
        Case("tensor_lr_1d_wd", "lr as a 1-element 1-d tensor, weight decay: float32 decay",
             {"lr": AsTensor([0.01]), "weight_decay": 0.3, "amsgrad": True},
             {"weight_decay": 0.01}),
    ]


_MORE_ADAM = [
    Case("decoupled", "decoupled weight decay", {"weight_decay": 0.1,
                                                 "decoupled_weight_decay": True},
         {"lr": 0.05, "decoupled_weight_decay": False}),
    Case("decoupled_amsgrad_maximize", "decoupled decay, AMSGrad and maximize together",
         {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True, "amsgrad": True,
          "maximize": True}, {"lr": 0.02, "weight_decay": 0}),
    Case("small_betas", "betas below 0.5 (lerp's second branch) and a large eps",
         {"lr": 0.01, "betas": (0.3, 0.45), "eps": 1e-3}, {"betas": (0.0, 0.0)}),
    Case("amsgrad_lr_schedule", "AMSGrad while lr halves every LR_PERIOD steps",
         {"lr": 0.02, "amsgrad": True}, {"lr": 0.1, "weight_decay": 0.05}, lr_gamma=0.5),
    Case("tensor_lr_decoupled", "tensor lr with decoupled decay (float32 decay factor)",
         {"lr": AsTensor(0.01), "weight_decay": 0.3, "decoupled_weight_decay": True},
         {"amsgrad": True}),
]

_MORE_ADAMW = [
    Case("no_decay", "weight_decay=0 turns AdamW into Adam", {"weight_decay": 0},
         {"lr": 0.05, "weight_decay": 0.2}),
    Case("small_betas_maximize", "betas below 0.5, large eps, maximize",
         {"lr": 0.01, "betas": (0.3, 0.45), "eps": 1e-3, "maximize": True},
         {"betas": (0.0, 0.0), "amsgrad": True}),
    Case("amsgrad_lr_schedule", "AMSGrad while lr (and so the decay) halves every period",
         {"lr": 0.02, "weight_decay": 0.5, "amsgrad": True}, {"lr": 0.1}, lr_gamma=0.5),
]

CASES: dict[str, list[Case]] = {
    "Adam": _shared_cases("Adam") + _tensor_lr_cases() + _MORE_ADAM,
    "AdamW": _shared_cases("AdamW") + _tensor_lr_cases() + _MORE_ADAMW,
}


# torch's checks, shared by Adam and AdamW.
_ERRORS = [
    ErrorCase("negative lr", {"lr": -1}, ValueError, r"^Invalid learning rate: -1$"),
    ErrorCase("nan lr", {"lr": float("nan")}, ValueError, r"^Invalid learning rate: nan$"),
    ErrorCase("negative tensor lr", {"lr": AsTensor(-0.5)}, ValueError,
              r"^Invalid learning rate: -0\.5$"),
    ErrorCase("tensor lr with two elements", {"lr": AsTensor([0.001, 0.001])}, ValueError,
              r"^Tensor lr must be 1-element$"),
    ErrorCase("tensor lr size is checked before its sign", {"lr": AsTensor([-1.0, -1.0])},
              ValueError, r"^Tensor lr must be 1-element$"),
    ErrorCase("negative eps", {"eps": -1e-8}, ValueError, r"^Invalid epsilon value: -1e-08$"),
    ErrorCase("beta1 of 1", {"lr": 1e-2, "betas": (1.0, 0.0)}, ValueError,
              r"^Invalid beta parameter at index 0: 1\.0$"),
    ErrorCase("negative beta1", {"betas": (-0.1, 0.999)}, ValueError,
              r"^Invalid beta parameter at index 0: -0\.1$"),
    ErrorCase("nan beta1", {"betas": (float("nan"), 0.999)}, ValueError,
              r"^Invalid beta parameter at index 0: nan$"),
    ErrorCase("beta2 of 1", {"betas": (0.9, 1.0)}, ValueError,
              r"^Invalid beta parameter at index 1: 1\.0$"),
    ErrorCase("negative weight decay", {"lr": 1e-2, "weight_decay": -1}, ValueError,
              r"^Invalid weight_decay value: -1$"),
    ErrorCase("int betas", {"betas": (0, 0.5)}, ValueError,
              r"^betas must be either both floats or both Tensors$"),
    ErrorCase("lr is checked before eps", {"lr": -1, "eps": -1}, ValueError,
              r"^Invalid learning rate: -1$"),
    ErrorCase("eps is checked before betas", {"eps": -1, "betas": (1.0, 1.0)}, ValueError,
              r"^Invalid epsilon value: -1$"),
    ErrorCase("beta1 is checked before beta2", {"betas": (1.0, 1.0)}, ValueError,
              r"^Invalid beta parameter at index 0: 1\.0$"),
    ErrorCase("betas are checked before weight decay",
              {"betas": (0.9, 2.0), "weight_decay": -1}, ValueError,
              r"^Invalid beta parameter at index 1: 2\.0$"),
    ErrorCase("ranges are checked before the betas' types", {"betas": (0, 1)}, ValueError,
              r"^Invalid beta parameter at index 1: 1$"),
    ErrorCase("weight decay is checked before the betas' types",
              {"betas": (0, 0.5), "weight_decay": -0.5}, ValueError,
              r"^Invalid weight_decay value: -0\.5$"),
]


ERROR_CASES: dict[str, list[ErrorCase]] = {
    "Adam": _ERRORS,
    "AdamW": _ERRORS + [
        ErrorCase("no decoupled_weight_decay argument", {"decoupled_weight_decay": False},
                  TypeError, r"^AdamW\.__init__\(\) got an unexpected keyword argument "
                  r"'decoupled_weight_decay'$"),
    ],
}
