"""Logistic regression with nn.Linear and BCEWithLogitsLoss: SGD, momentum, Adam and LBFGS.

Run: ``python examples/logistic_regression.py [OUT_DIR] [--no-plots]`` (OUT_DIR defaults to
``./logistic_regression``). Two overlapping Gaussian clouds are labelled 0 and 1, as raw
measurements often come: far from the origin, with the second feature spread three times
wider than the first. That makes the loss a long, narrow valley. Every optimizer fits the
same ``nn.Linear(2, 1)`` from the same initial weights on the full training set and gets
the same budget of 100 loss-and-gradient evaluations (closure calls). Plain SGD crawls along
the valley; with the same lr = 0.1, momentum's running sum of gradients takes up to ten times
longer steps along it, and Adam scales each coordinate by its own gradient size; both get
much further. LBFGS, which builds a curvature model from its past gradients, reaches the
minimum within a dozen evaluations. The table gives each one's loss and accuracy (the lowest
training loss need not give the best test accuracy); ``OUT_DIR/logistic_regression.png``
shows the loss per evaluation and the four decision boundaries. Standardising the features
(minus the mean, divided by the standard deviation) rounds the valley off: momentum and Adam
then reach the minimum within the budget too, and plain SGD can take lr = 3.
"""
from __future__ import annotations

import argparse
import functools

import numpy as np

import tinygrad_optim as torch
import tinygrad_optim.nn as nn
import tinygrad_optim.optim as optim
from tinygrad_optim.tour import _plot, plots_possible

SEED = 0
EVALUATIONS = 100  # the budget of closure calls that every optimizer gets
OPTIMIZERS = {  # name: (factory, colour in the figure)
    "SGD": (functools.partial(optim.SGD, lr=0.1), "tab:red"),
    "SGD momentum": (functools.partial(optim.SGD, lr=0.1, momentum=0.9), "tab:green"),
    "Adam": (functools.partial(optim.Adam, lr=0.1), "tab:purple"),
    "LBFGS": (functools.partial(optim.LBFGS, line_search_fn="strong_wolfe"), "black"),
}


def make_data(rng: np.random.Generator, n: int):
    """``n`` points of two overlapping clouds, uncentred and unevenly scaled, and their labels.

    Returns:
        (features ``(n, 2)`` float32, labels ``(n,)`` float32 in {0, 1}) as tensors.
    """
    labels = rng.integers(0, 2, n)
    means = np.array([[-1.0, 0.6], [1.0, -0.6]])
    points = means[labels] + 0.9 * rng.standard_normal((n, 2))
    points = points * [1.0, 3.0] + [3.0, 2.0]
    return torch.tensor(points.astype(np.float32)), torch.tensor(labels.astype(np.float32))


def fit(make_optimizer, features, labels):
    """Train a fresh ``nn.Linear(2, 1)`` full batch until EVALUATIONS closure calls are spent.

    LBFGS calls the closure several times per step (its line search); the first-order
    optimizers call it once. Counting calls, not steps, makes the budgets equal.

    Returns:
        (model, the loss at every closure call).
    """
    torch.manual_seed(SEED)  # the same initial weights for every optimizer
    model = nn.Linear(2, 1)
    loss_fn = nn.BCEWithLogitsLoss()
    optimizer = make_optimizer(model.parameters())
    losses = []

    def closure():
        optimizer.zero_grad()
        loss = loss_fn(model(features).squeeze(1), labels)
        loss.backward()
        losses.append(loss.item())
        return loss

    while len(losses) < EVALUATIONS:
        optimizer.step(closure)
    return model, losses


def evaluate(model, features, labels):
    """(mean loss, accuracy) of ``model`` on a data set."""
    with torch.no_grad():
        logits = model(features).squeeze(1)
        loss = nn.functional.binary_cross_entropy_with_logits(logits, labels).item()
        accuracy = ((logits > 0).float() == labels).float().mean().item()
    return loss, accuracy


def plot(results, features, labels, out_dir: str) -> None:
    """Loss per closure call (left) and every decision boundary over the training set."""
    fig, (ax_loss, ax_data) = _plot.figure(1, 2, size=(12, 4.8))
    points, classes = features.numpy(), labels.numpy()
    for label, colour in ((0, "#9ecae1"), (1, "#fdae6b")):
        chosen = points[classes == label]
        ax_data.scatter(chosen[:, 0], chosen[:, 1], s=12, color=colour, label=f"class {label}")
    grid_x, grid_y = np.meshgrid(np.linspace(*ax_data.get_xlim(), 200),
                                 np.linspace(*ax_data.get_ylim(), 200))
    grid = torch.tensor(np.stack([grid_x.ravel(), grid_y.ravel()], 1).astype(np.float32))
    for name, (model, losses) in results.items():
        colour = OPTIMIZERS[name][1]
        ax_loss.plot(np.arange(1, len(losses) + 1), losses, color=colour, label=name)
        with torch.no_grad():
            logits = model(grid).numpy().reshape(grid_x.shape)
        # The boundary is where the logit crosses 0, i.e. where the probability is 1/2.
        ax_data.contour(grid_x, grid_y, logits, levels=[0.0], colors=colour, linewidths=2)
        ax_data.plot([], [], color=colour, linewidth=2, label=name)  # a legend entry
    ax_loss.set(xlabel="closure calls (loss and gradient evaluations)",
                ylabel="training loss (BCE with logits)", title="Loss for the same budget")
    ax_loss.legend()
    ax_data.set(xlabel="feature 1", ylabel="feature 2",
                title=f"Decision boundaries after {EVALUATIONS} evaluations")
    ax_data.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))  # outside: points everywhere
    _plot.save(fig, out_dir, "logistic_regression.png")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", default="logistic_regression",
                        help="folder for the figure (default: %(default)s)")
    parser.add_argument("--no-plots", action="store_true", help="print the table only")
    args = parser.parse_args(argv)
    plots = not args.no_plots and plots_possible()  # says how to get matplotlib if missing
    rng = np.random.default_rng(SEED)
    train_set, test_set = make_data(rng, 400), make_data(rng, 400)
    print(f"400 training and 400 test points; {EVALUATIONS} closure calls per optimizer")
    print(f"{'optimizer':<14}{'calls':>7}{'train loss':>12}{'train acc':>11}{'test acc':>10}")
    results = {}
    for name, (make_optimizer, _) in OPTIMIZERS.items():
        model, losses = fit(make_optimizer, *train_set)
        results[name] = (model, losses)
        train_loss, train_accuracy = evaluate(model, *train_set)
        _, test_accuracy = evaluate(model, *test_set)
        print(f"{name:<14}{len(losses):>7}{train_loss:>12.4f}{train_accuracy:>11.1%}"
              f"{test_accuracy:>10.1%}")
    if plots:
        plot(results, *train_set, args.out_dir)


if __name__ == "__main__":
    main()
