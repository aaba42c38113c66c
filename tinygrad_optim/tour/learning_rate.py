"""The tutorial's manual gradient-descent loop on y = 4x², written exactly as for torch."""
from __future__ import annotations

import tinygrad_optim as torch  # the tutorial's code, with only the import changed


def func(x_t):
    """y = (2x)² = 4x²: its minimum is at x = 0 and its gradient is 8x."""
    return torch.pow(2 * x_t, 2)


def manual_descent(lr: float = 0.01, max_iteration: int = 20, x0: float = 2.0,
                   verbose: bool = True):
    """Gradient descent by hand: ``x.data.sub_(lr * x.grad); x.grad.zero_()``.

    The gradient has to be zeroed by hand because ``backward()`` adds into ``.grad``.
    Each step multiplies x by (1 - 8·lr): 0.92 for lr = 0.01.

    Returns:
        (iterations, x values, losses) as lists; the losses are the loss tensors themselves,
        as the tutorial records them (they convert to numpy for plotting).
    """
    x = torch.tensor([x0], requires_grad=True)
    iter_rec, loss_rec, x_rec = [], [], []
    for i in range(max_iteration):
        y = func(x)
        y.backward()
        if verbose:
            print("Iter:{}, X:{:8}, X.grad:{:8}, loss:{:10}".format(
                i, x.detach().numpy()[0], x.grad.detach().numpy()[0], y.item()))
        x_rec.append(x.item())
        x.data.sub_(lr * x.grad)
        x.grad.zero_()
        iter_rec.append(i)
        loss_rec.append(y)
    return iter_rec, x_rec, loss_rec
