"""Where the tutorial's output differs from PyTorch 2.13, and why (the tour's section 7).

Run: ``python examples/tutorial_vs_torch.py``. Six differences: zero_grad() leaving None,
_step_count moving to the LR schedulers, SGD's lr default, torch.load's weights_only, plotting
tensors that require grad, and how a state dict names its parameters; each with what this
library does, run live. It writes no file (an output directory argument is accepted and
ignored).
"""
import sys

from tinygrad_optim.tour import example_out_dir, today

if __name__ == "__main__":
    today.run(example_out_dir(sys.argv), plots=False)
