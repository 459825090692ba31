"""Layers both networks share: small multilayer perceptrons whose ensemble members
run side by side in one batched module, and the per-member mean of a loss."""

import numpy as np
import torch
from torch import nn

ACTIVATIONS = {"relu": nn.ReLU, "silu": nn.SiLU, "tanh": nn.Tanh, "gelu": nn.GELU}


class MemberLinear(nn.Module):
    """``n_members`` independent linear layers, evaluated side by side.

    The weights of all members are stacked, so one batched matrix product
    evaluates every member: on the small networks used here a training step
    of five members costs about 1.5 times one member's (the step time is
    mostly fixed overhead per operation, not arithmetic).

    The input is either ``(n_rows, in_features)``, shared by all members, or
    ``(n_members, n_rows, in_features)``; the output is ``(n_members,
    n_rows, out_features)``. Every member is initialised like a
    :class:`torch.nn.Linear` (uniform weights and biases within
    ``1 / sqrt(in_features)``), independently.
    """

    def __init__(self, n_members, in_features, out_features):
        super().__init__()
        bound = 1.0 / np.sqrt(in_features)
        self.weight = nn.Parameter(
            torch.empty(n_members, in_features, out_features).uniform_(-bound, bound)
        )
        self.bias = nn.Parameter(
            torch.empty(n_members, 1, out_features).uniform_(-bound, bound)
        )

    def forward(self, X):
        if X.ndim == 2:
            # One matrix product for all members: (n, in) @ (in, members * out).
            n_members, n_in, n_out = self.weight.shape
            stacked = self.weight.permute(1, 0, 2).reshape(n_in, n_members * n_out)
            out = (X @ stacked).unflatten(-1, (n_members, n_out)).transpose(0, 1)
            return out + self.bias
        return torch.baddbmm(self.bias, X, self.weight)


def member_linear(n_inputs, n_outputs, n_members):
    if n_members == 1:
        return nn.Linear(n_inputs, n_outputs)
    return MemberLinear(n_members, n_inputs, n_outputs)


class ExpandMembers(nn.Module):
    """Give rows of shape (n, k) a leading members dimension, as a view:
    (n_members, n, k). The stack of an ensemble without hidden layers."""

    def __init__(self, n_members):
        super().__init__()
        self.n_members = n_members

    def forward(self, X):
        return X.expand(self.n_members, *X.shape)


def make_mlp(n_inputs, hidden_layer_sizes, activation, n_members=1):
    """Stack of linear layers, each followed by ``activation``.

    With ``n_members > 1`` the layers are :class:`MemberLinear`: the stack is
    ``n_members`` independent networks whose outputs carry a leading members
    dimension (without hidden layers too: the inputs, repeated per member).
    """
    layers = []
    for width in hidden_layer_sizes:
        layers += [member_linear(n_inputs, width, n_members), ACTIVATIONS[activation]()]
        n_inputs = width
    if not layers and n_members > 1:
        layers = [ExpandMembers(n_members)]
    return nn.Sequential(*layers), n_inputs


def weighted_member_mean(scores, weight, members):
    """Weighted mean of per-row scores, each member on the rows that train it.

    ``scores`` are ``(n_rows,)``, or ``(n_members, n_rows)`` for every member
    of an ensemble; ``members`` holds one 0/1 column per member (1 where the
    row trains that member), or no columns when every row trains every
    member. Each member then follows the gradient of its own loss.
    """
    if scores.ndim == 1:
        return (weight * scores).sum() / weight.sum()
    weight = weight.expand_as(scores)
    if members.shape[1]:
        weight = weight * members.T
    total = weight.sum().clamp(min=torch.finfo(weight.dtype).tiny)
    return (weight * scores).sum() / total


def pack_target(z, weight, member_columns=None):
    """The training target as one float32 array that skorch batches with the
    features: the standardised targets ``z`` (n_rows, n_outputs), the row
    weight, then (for an ensemble whose members hold out their own rows)
    one 0/1 column per member, 1 where the row trains that member.
    :func:`unpack_target` reads it back."""
    target = np.hstack([z, weight[:, None]]).astype(np.float32)
    if member_columns is None:
        return target
    return np.hstack([target, member_columns])


def unpack_target(target, n_outputs):
    """The observations, the row weights and the member columns (no columns
    when every row trains every member) of a target made by
    :func:`pack_target` (an array or a tensor of a batch of its rows)."""
    return target[:, :n_outputs], target[:, n_outputs], target[:, n_outputs + 1 :]
