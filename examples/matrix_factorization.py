"""Matrix factorization on synthetic ratings: SparseAdam with sparse embeddings against Adam.

Run: ``python examples/matrix_factorization.py``. Ratings come from hidden user and item
factors plus noise; the model learns one embedding row per user and per item and predicts a
rating as their dot product. Each mini-batch touches a few hundred rows of the tables, so with
``nn.Embedding(..., sparse=True)`` the gradient holds only those rows and SparseAdam updates
only them, while Adam updates every row of both tables (and keeps moving rows the batch did
not touch, by their momentum). Both learn the ratings, far below the error of predicting zero;
the printed step times show what the sparse update saves. Here a batch touches about a sixth of
the rows, so the gain is about 2x; on a larger table with 1 % of rows per step it is 35x
(``python -m benchmarks.sparse``).
"""
from __future__ import annotations

import time

import numpy as np

import tinygrad_optim as torch
import tinygrad_optim.nn as nn
import tinygrad_optim.nn.functional as F
import tinygrad_optim.optim as optim

USERS, ITEMS, RANK, DIM = 10_000, 2_000, 4, 32
RATINGS, BATCH, EPOCHS = 300_000, 1024, 6


class Factorization(nn.Module):
    """rating(u, i) = <user_u, item_i>: two embedding tables and a dot product."""

    def __init__(self, sparse: bool):
        super().__init__()
        self.users = nn.Embedding(USERS, DIM, sparse=sparse)
        self.items = nn.Embedding(ITEMS, DIM, sparse=sparse)
        with torch.no_grad():  # small initial factors: the dot products start near zero
            self.users.weight.mul_(0.1)
            self.items.weight.mul_(0.1)

    def forward(self, users, items):
        return (self.users(users) * self.items(items)).sum(dim=1)


def synthetic_ratings(rng):
    """Ratings from rank-RANK hidden factors plus noise, split 90 / 10 into train and test."""
    user_factors = rng.standard_normal((USERS, RANK))
    item_factors = rng.standard_normal((ITEMS, RANK))
    users = rng.integers(0, USERS, RATINGS)
    items = rng.integers(0, ITEMS, RATINGS)
    ratings = (user_factors[users] * item_factors[items]).sum(1) + 0.1 * rng.standard_normal(
        RATINGS)
    split = RATINGS * 9 // 10
    data = (users, items, ratings.astype(np.float32))
    return [tuple(a[:split] for a in data), tuple(a[split:] for a in data)]


def train(model, optimizer, train_set, test_set, rng):
    """EPOCHS passes of mini-batch training; returns (test RMSE, mean step time in ms)."""
    users, items, ratings = train_set
    step_seconds = []
    for epoch in range(EPOCHS):
        order = rng.permutation(len(ratings))
        for start in range(0, len(order), BATCH):
            batch = order[start:start + BATCH]
            loss = F.mse_loss(model(torch.tensor(users[batch]), torch.tensor(items[batch])),
                              torch.tensor(ratings[batch]))
            optimizer.zero_grad()
            loss.backward()
            began = time.perf_counter()
            optimizer.step()
            step_seconds.append(time.perf_counter() - began)
    with torch.no_grad():
        users, items, ratings = test_set
        error = model(torch.tensor(users), torch.tensor(items)) - torch.tensor(ratings)
        rmse = float((error * error).mean().sqrt())
    return rmse, 1e3 * float(np.mean(step_seconds))


def main():
    train_set, test_set = synthetic_ratings(np.random.default_rng(0))
    baseline = float(np.sqrt(np.mean(test_set[2] ** 2)))
    print(f"{USERS} users x {ITEMS} items, {len(train_set[2])} training ratings; "
          f"predicting 0 gives a test RMSE of {baseline:.3f}")
    results = {}
    runs = [("SparseAdam", True, optim.SparseAdam), ("Adam", False, optim.Adam)]
    for name, sparse, make in runs:
        torch.manual_seed(0)
        model = Factorization(sparse)
        rmse, step_ms = train(model, make(model.parameters(), lr=0.03), train_set, test_set,
                              np.random.default_rng(1))
        results[name] = (rmse, step_ms)
        print(f"{name:<10} sparse gradients={str(sparse):<5}  test RMSE {rmse:.3f}  "
              f"optimizer step {step_ms:6.2f} ms")
    speedup = results["Adam"][1] / results["SparseAdam"][1]
    print(f"SparseAdam's step is {speedup:.0f}x faster: it updates only the rows in the batch")


if __name__ == "__main__":
    main()
