"""Naive numpy optimizers: the baseline a first implementation would give.

Each step is written the obvious way, one numpy expression per line of the math, every
intermediate a fresh full-size array and the state rebound rather than updated in place. They
exist only to be timed by ``benchmarks/optim.py`` (they follow torch's defaults for the
configurations benchmarked there, without weight decay or maximize), so that the table shows
what the blocked in-place kernels buy.
"""
from __future__ import annotations

import numpy as np


def sgd(p, g, s, t, lr, momentum=0.0, **_):
    if momentum:
        s["buf"] = g.copy() if t == 1 else momentum * s["buf"] + g
        g = s["buf"]
    p[...] = p - lr * g


def adagrad(p, g, s, t, lr, eps=1e-10, **_):
    s["sum"] = s.get("sum", np.zeros_like(p)) + g * g
    p[...] = p - lr * g / (np.sqrt(s["sum"]) + eps)


def rmsprop(p, g, s, t, lr, alpha=0.99, eps=1e-8, momentum=0.0, centered=False, **_):
    s["sq"] = alpha * s.get("sq", np.zeros_like(p)) + (1 - alpha) * g * g
    avg = s["sq"]
    if centered:
        s["ga"] = alpha * s.get("ga", np.zeros_like(p)) + (1 - alpha) * g
        avg = avg - s["ga"] * s["ga"]
    step = g / (np.sqrt(avg) + eps)
    if momentum:
        s["buf"] = momentum * s.get("buf", np.zeros_like(p)) + step
        step = s["buf"]
    p[...] = p - lr * step


def adadelta(p, g, s, t, lr=1.0, rho=0.9, eps=1e-6, **_):
    s["sq"] = rho * s.get("sq", np.zeros_like(p)) + (1 - rho) * g * g
    delta = np.sqrt(s.get("acc", np.zeros_like(p)) + eps) / np.sqrt(s["sq"] + eps) * g
    s["acc"] = rho * s.get("acc", np.zeros_like(p)) + (1 - rho) * delta * delta
    p[...] = p - lr * delta


def adam(p, g, s, t, lr, betas=(0.9, 0.999), eps=1e-8, amsgrad=False, decoupled=0.0, **_):
    beta1, beta2 = betas
    if decoupled:
        p[...] = p * (1 - lr * decoupled)
    s["m"] = beta1 * s.get("m", np.zeros_like(p)) + (1 - beta1) * g
    s["v"] = beta2 * s.get("v", np.zeros_like(p)) + (1 - beta2) * g * g
    v = s["v"]
    if amsgrad:
        s["vmax"] = v = np.maximum(s.get("vmax", np.zeros_like(p)), v)
    m_hat = s["m"] / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    p[...] = p - lr * m_hat / (np.sqrt(v_hat) + eps)


def adamw(p, g, s, t, lr, weight_decay=1e-2, **kwargs):
    adam(p, g, s, t, lr, decoupled=weight_decay, **kwargs)


def adamax(p, g, s, t, lr, betas=(0.9, 0.999), eps=1e-8, **_):
    beta1, beta2 = betas
    s["m"] = beta1 * s.get("m", np.zeros_like(p)) + (1 - beta1) * g
    s["u"] = np.maximum(beta2 * s.get("u", np.zeros_like(p)), np.abs(g) + eps)
    p[...] = p - lr / (1 - beta1 ** t) * s["m"] / s["u"]


def asgd(p, g, s, t, lr, lambd=1e-4, alpha=0.75, t0=1e6, **_):
    eta, mu = s.get("eta", lr), s.get("mu", 1.0)
    p[...] = p * (1 - lambd * eta) - eta * g
    s["ax"] = p.copy() if mu == 1 else s["ax"] + mu * (p - s["ax"])
    s["eta"] = lr / (1 + lambd * lr * t) ** alpha
    s["mu"] = 1 / max(1, t - t0)


def rprop(p, g, s, t, lr, etas=(0.5, 1.2), step_sizes=(1e-6, 50), **_):
    prev, size = s.get("prev", np.zeros_like(p)), s.get("size", np.full_like(p, lr))
    sign = np.sign(g * prev)
    size = np.clip(np.where(sign > 0, size * etas[1], np.where(sign < 0, size * etas[0], size)),
                   *step_sizes)
    g = np.where(sign < 0, 0, g)
    p[...] = p - np.sign(g) * size
    s["prev"], s["size"] = g, size


STEPS = {"SGD": sgd, "Adagrad": adagrad, "RMSprop": rmsprop, "Adadelta": adadelta,
         "Adam": adam, "AdamW": adamw, "Adamax": adamax, "ASGD": asgd, "Rprop": rprop}


def make_step(cls_name: str, kwargs: dict, grads: list):
    """A ``step()`` of the naive optimizer over fresh parameters for ``grads``."""
    update = STEPS[cls_name]
    params = [np.zeros_like(grad) for grad in grads]
    states = [{} for _ in grads]
    count = [0]

    def step():
        count[0] += 1
        with np.errstate(all="ignore"):  # as the library's kernels: inf and nan silently
            for param, grad, state in zip(params, grads, states):
                update(param, grad, state, count[0], **kwargs)
    step.params = params  # for the benchmark's check that both compute the same
    return step
