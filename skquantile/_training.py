"""Training with skorch: batching, early stopping, divergence checks, seeding."""

import contextlib
import copy
import dataclasses
import math
from collections.abc import Callable
from typing import ClassVar

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping, LRScheduler, ProgressBar
from skorch.dataset import Dataset
from skorch.helper import predefined_split


class TensorBatchIterator:
    """Mini-batches sliced from in-memory tensors.

    skorch's default ``DataLoader`` fetches rows one at a time and collates
    them, which costs more than the forward and backward pass of the small
    networks used here. This iterator slices whole batches from the tensors
    of a :class:`skorch.dataset.Dataset` instead; the shuffling order comes
    from torch's random generator, so it follows the seed of the fit.
    """

    def __init__(self, dataset, batch_size, shuffle=False):
        self.X, self.y = dataset.X, dataset.y
        self.batch_size = batch_size
        self.shuffle = shuffle

    def __len__(self):
        return math.ceil(len(self.X) / self.batch_size)

    def __iter__(self):
        n_rows = len(self.X)
        order = torch.randperm(n_rows) if self.shuffle else None
        for start in range(0, n_rows, self.batch_size):
            if order is None:
                rows = slice(start, start + self.batch_size)
            else:
                rows = order[start : start + self.batch_size]
            yield self.X[rows], self.y[rows]


class AdamW(torch.optim.Optimizer):
    """AdamW (decoupled weight decay) whose step is one fused kernel.

    The same update as :class:`torch.optim.AdamW` with its defaults
    (``betas=(0.9, 0.999)``, ``eps=1e-8``, no AMSGrad), for the two reasons
    that make torch's class slow on the small networks trained here:

    - on the CPU torch's class updates one parameter tensor at a time unless
      asked otherwise, a dozen small operations per tensor and step (about a
      quarter of a training step of the default ensemble); this one updates
      every tensor in one call of torch's fused AdamW kernel, falling back to
      the tensor-list (``foreach``) path where the kernel does not run;
    - torch's optimizers import ``torch._dynamo`` when they are built and at
      their first step (2 to 3 s in every new process, every joblib worker
      included); this one does not.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        if not lr > 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay}
        super().__init__(params, defaults)

    def add_param_group(self, param_group):
        params = param_group["params"]
        if isinstance(params, torch.Tensor):
            params = [params]
        group = {**self.defaults, **param_group, "params": list(params)}
        self.param_groups.append(group)

    def zero_grad(self, set_to_none=True):
        for group in self.param_groups:
            for param in group["params"]:
                if set_to_none:
                    param.grad = None
                elif param.grad is not None:
                    param.grad.zero_()

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [param for param in group["params"] if param.grad is not None]
            if not params:
                continue
            states = [self.state[param] for param in params]
            for param, state in zip(params, states, strict=True):
                if not state:
                    state["step"] = torch.zeros(
                        (), dtype=torch.float32, device=param.device
                    )
                    state["exp_avg"] = torch.zeros_like(param)
                    state["exp_avg_sq"] = torch.zeros_like(param)
            lists = (
                params,
                [param.grad for param in params],
                [state["exp_avg"] for state in states],
                [state["exp_avg_sq"] for state in states],
                [state["step"] for state in states],
            )
            _adamw_update(*lists, group)
        return loss


def _adamw_update(params, grads, exp_avgs, exp_avg_sqs, steps, group):
    """One AdamW update of every tensor of a parameter group."""
    beta1, beta2 = group["betas"]
    torch._foreach_add_(steps, 1)
    options = {
        "lr": float(group["lr"]),
        "beta1": beta1,
        "beta2": beta2,
        "weight_decay": group["weight_decay"],
        "eps": group["eps"],
    }
    if params[0].device.type in ("cpu", "cuda") and _fusable(params):
        torch._fused_adamw_(
            params,
            grads,
            exp_avgs,
            exp_avg_sqs,
            [],
            steps,
            amsgrad=False,
            maximize=False,
            grad_scale=None,
            found_inf=None,
            **options,
        )
        return
    # The same update written with tensor-list operations.
    step = steps[0].item()
    torch._foreach_mul_(params, 1.0 - options["lr"] * options["weight_decay"])
    torch._foreach_lerp_(exp_avgs, grads, 1.0 - beta1)
    torch._foreach_mul_(exp_avg_sqs, beta2)
    torch._foreach_addcmul_(exp_avg_sqs, grads, grads, 1.0 - beta2)
    bias1 = 1.0 - beta1**step
    bias2 = (1.0 - beta2**step) ** 0.5
    denominator = torch._foreach_sqrt(exp_avg_sqs)
    torch._foreach_div_(denominator, bias2)
    torch._foreach_add_(denominator, options["eps"])
    torch._foreach_addcdiv_(params, exp_avgs, denominator, -options["lr"] / bias1)


def _fusable(params):
    """Whether torch's fused kernel takes these tensors (one device, floating)."""
    first = params[0]
    return first.dtype in _FUSED_DTYPES and all(
        param.device == first.device and param.dtype == first.dtype for param in params
    )


_FUSED_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


class RaiseOnNonFiniteLoss(Callback):
    """Stop training with a clear error as soon as a batch loss is not finite."""

    def on_batch_end(self, net, batch=None, training=None, loss=None, **kwargs):
        if loss is not None and not torch.isfinite(loss).item():
            epoch = len(net.history)
            raise FloatingPointError(
                f"Training diverged: the {'training' if training else 'validation'} "
                f"loss became {loss.item()} in epoch {epoch}. Try a smaller "
                "learning_rate_init, a larger batch_size, or scaling the features "
                "(e.g. with sklearn.preprocessing.StandardScaler)."
            )


def grown_patience(patience, best_epoch, growth, max_patience):
    """The epochs to wait after ``best_epoch``: ``growth`` times that epoch,
    within ``[patience, max_patience]``; just ``patience`` if ``growth`` is
    ``None``."""
    if growth is None:
        return int(patience)
    return int(min(max_patience, max(patience, math.ceil(growth * best_epoch))))


class ProgressEarlyStopping(EarlyStopping):
    """skorch's early stopping, with a patience that can grow with progress.

    With ``growth=None`` this is :class:`skorch.callbacks.EarlyStopping`.
    Otherwise, after the best epoch ``b`` so far it waits ``growth * b``
    epochs, at least ``patience`` and at most ``max_patience``: a fit whose
    best epoch comes late, after a long plateau, is given as long again to
    leave the next one, and a fit whose best epoch comes early stops after
    ``patience``. The patience in effect is ``patience_``; ``stopped_``
    tells whether training stopped on it.
    """

    def __init__(self, *args, growth=None, max_patience=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.growth = growth
        self.max_patience = max_patience

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        self.patience_ = int(self.patience)
        self.stopped_ = False

    def on_epoch_end(self, net, **kwargs):
        # The patience changes only after an improvement, which resets the
        # misses, so the parent's count still reaches it exactly.
        patience, self.patience = self.patience, self.patience_
        try:
            super().on_epoch_end(net, **kwargs)
        except KeyboardInterrupt:
            self.stopped_ = True
            raise
        finally:
            self.patience = patience
            self.patience_ = grown_patience(
                patience, self.best_epoch_, self.growth, self.max_patience
            )


# A dataclass for the generated __init__ that skorch's get_params reads.
@dataclasses.dataclass(eq=False, repr=False)
class MemberEarlyStopping(Callback):
    """Early stopping of every member of an ensemble on its own held-out rows.

    Each member of an ensemble module (``module.n_members > 1``) holds out
    its own random rows: the target columns after the sample weight are one
    0/1 column per member, 1 where the row trains that member. At the end of
    every epoch this callback scores each member's loss (the criterion's
    ``row_scores`` of the module's ``member_outputs``) on the rows it held
    out (``X_valid``, ``target_valid``: the rows held out by at least one
    member), keeps a copy of each member's weights from its best epoch, and
    stops training when no member has improved by ``threshold`` for
    ``patience`` epochs (with ``growth``, each member for its own
    :func:`grown_patience` after its own best epoch); the members' best
    weights are then put back together. The mean of the members' held-out
    losses is recorded in the history as ``valid_loss``, each member's as
    ``valid_member_losses``.

    Members so see different training rows and stop at different epochs:
    every row trains most members, and the members' errors differ more than
    initialisation alone makes them differ, which is where the ensemble
    gains (on the small UCI sets about 10% CRPS against one network,
    where members that share one validation split and stop together gained
    almost nothing).
    """

    monitor: ClassVar[str] = "valid_loss"

    X_valid: torch.Tensor
    target_valid: torch.Tensor
    patience: int
    threshold: float
    sink: Callable[[str], None] = print
    growth: float | None = None
    max_patience: int | None = None

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        # On the training device once, not at every epoch.
        self.X_valid = self.X_valid.to(net.device)
        self.target_valid = self.target_valid.to(net.device)
        n_members = net.module_.n_members
        self.best_losses_ = np.full(n_members, np.inf)
        self.member_misses_ = np.zeros(n_members, dtype=int)
        self.best_epochs_ = np.zeros(n_members, dtype=int)
        self.best_model_weights_ = None
        self.patience_ = int(self.patience)
        self.stopped_ = False

    def on_epoch_end(self, net, **kwargs):
        losses = self._member_losses(net)
        if not np.isfinite(losses).all():
            raise FloatingPointError(
                f"Training diverged: the validation loss became {losses.tolist()} "
                f"in epoch {len(net.history)}. Try a smaller learning_rate_init "
                "or a larger batch_size."
            )
        net.history.record(self.monitor, float(losses.mean()))
        net.history.record("valid_member_losses", losses.tolist())
        improved = losses < self.best_losses_ - self.threshold
        # Marked as a best epoch (in the printed log) when a member improved.
        net.history.record(f"{self.monitor}_best", bool(improved.any()))
        self.best_losses_[improved] = losses[improved]
        self.best_epochs_[improved] = net.history[-1, "epoch"]
        self.member_misses_ = np.where(improved, 0, self.member_misses_ + 1)
        self._keep_best(net.module_, improved)
        patience = np.array(
            [
                grown_patience(self.patience, best, self.growth, self.max_patience)
                for best in self.best_epochs_
            ]
        )
        # The longest wait of any member: training stops after it at the latest.
        self.patience_ = int(patience.max())
        if (self.member_misses_ >= patience).all():
            self.stopped_ = True
            self.sink(
                f"Stopping since no member's {self.monitor} has improved in the "
                f"last {int(patience.min())} epochs."
            )
            raise KeyboardInterrupt

    @property
    def best_epoch_(self):
        """The best epoch of each member."""
        return self.best_epochs_.tolist()

    def on_train_end(self, net, **kwargs):
        if self.best_model_weights_ is not None:
            net.module_.load_state_dict(self.best_model_weights_)

    def _keep_best(self, module, improved):
        if self.best_model_weights_ is None:
            self.best_model_weights_ = {
                key: value.detach().clone()
                for key, value in module.state_dict().items()
            }
            return
        if not improved.any():
            return
        rows = torch.as_tensor(improved, device=next(module.parameters()).device)
        for key, value in module.named_parameters():
            self.best_model_weights_[key][rows] = value.detach()[rows]

    def _member_losses(self, net, chunk_size=8192):
        """Each member's weighted mean loss on the rows it held out."""
        module = net.module_
        was_training = module.training
        module.eval()
        totals = torch.zeros(module.n_members, dtype=torch.float64)
        weights = torch.zeros(module.n_members, dtype=torch.float64)
        try:
            with torch.no_grad():
                for start in range(0, len(self.X_valid), chunk_size):
                    rows = slice(start, start + chunk_size)
                    scores, weight, trains = net.criterion_.row_scores(
                        module.member_outputs(self.X_valid[rows]),
                        self.target_valid[rows],
                    )
                    held_out = weight[:, None] * (1.0 - trains)
                    totals += (scores * held_out.T).sum(-1).double().cpu()
                    weights += held_out.sum(0).double().cpu()
        finally:
            module.train(was_training)
        return (totals / weights).numpy()


@contextlib.contextmanager
def seeded_torch(seed, device):
    """Run torch with a fixed seed without touching the caller's random state."""
    devices = []
    device = torch.device(device)
    if device.type == "cuda":
        devices = [device.index if device.index is not None else 0]
    with torch.random.fork_rng(devices=devices, device_type=device.type):
        torch.manual_seed(seed)
        yield


def make_network(
    module,
    module_params,
    criterion,
    criterion_params,
    *,
    validation=None,
    per_member_validation=False,
    max_epochs,
    batch_size,
    learning_rate_init,
    weight_decay,
    n_iter_no_change,
    tol,
    device,
    verbose,
    patience_growth=None,
):
    """Build (without training) the skorch :class:`~skorch.NeuralNet` of a fit.

    Returns the net and its early-stopping callback. The learning rate decays
    from ``learning_rate_init`` to zero along a cosine over ``max_epochs``:
    the last epochs take small steps, which removes most of the noise of the
    final mini-batch iterate (this matters for calibration far more than for
    the mean loss).

    ``batch_size`` and ``max_epochs`` are the sizes resolved for the training
    rows (:func:`~skquantile._plan.resolve_batch_size`,
    :func:`~skquantile._plan.resolve_max_epochs`).

    ``validation`` is ``None`` (stop when the training loss stops improving)
    or a pair ``(X_valid, target_valid)`` used for early stopping. In both
    cases training stops when the monitored loss has not improved by ``tol``
    for ``n_iter_no_change`` epochs, and the weights of the best epoch are
    restored. ``patience_growth`` ``(growth, max_patience)`` lets that
    patience grow with the best epoch (:func:`grown_patience`). With
    ``per_member_validation`` the module is an ensemble whose members hold
    out rows of their own (:class:`MemberEarlyStopping`), and ``validation``
    holds the rows held out by at least one member.
    """
    sink = print if verbose else _silent
    growth, max_patience = patience_growth or (None, None)
    if per_member_validation:
        X_valid, target_valid = validation
        train_split = None
        stopper = MemberEarlyStopping(
            torch.as_tensor(X_valid),
            torch.as_tensor(target_valid),
            patience=n_iter_no_change,
            threshold=tol,
            sink=sink,
            growth=growth,
            max_patience=max_patience,
        )
    else:
        if validation is None:
            monitor, train_split = "train_loss", None
        else:
            X_valid, target_valid = validation
            valid_set = Dataset(torch.as_tensor(X_valid), torch.as_tensor(target_valid))
            monitor, train_split = "valid_loss", predefined_split(valid_set)
        stopper = ProgressEarlyStopping(
            monitor=monitor,
            patience=n_iter_no_change,
            threshold=tol,
            threshold_mode="abs",
            load_best=True,
            sink=sink,
            growth=growth,
            max_patience=max_patience,
        )
    callbacks = [
        ("non_finite_loss", RaiseOnNonFiniteLoss()),
        ("early_stopping", stopper),
        (
            "cosine_decay",
            LRScheduler(
                policy=torch.optim.lr_scheduler.CosineAnnealingLR, T_max=max_epochs
            ),
        ),
    ]
    if verbose >= 2:
        callbacks.append(("progress_bar", ProgressBar()))
    log_options = {}
    if not verbose:
        # skorch's epoch table is built at every epoch even when it is not
        # printed (a few percent of a fit of small data, hundreds of epochs).
        log_options["callbacks__print_log"] = None
    elif per_member_validation:
        # The members' losses stay in the history, out of the printed table.
        log_options["callbacks__print_log__keys_ignored"] = ["valid_member_losses"]
    net = NeuralNet(
        module=module,
        criterion=criterion,
        optimizer=AdamW,
        lr=learning_rate_init,
        optimizer__weight_decay=weight_decay,
        max_epochs=max_epochs,
        batch_size=batch_size,
        iterator_train=TensorBatchIterator,
        iterator_train__shuffle=True,
        iterator_valid=TensorBatchIterator,
        train_split=train_split,
        callbacks=callbacks,
        device=device,
        verbose=verbose,
        **log_options,
        **{f"module__{key}": value for key, value in module_params.items()},
        **{f"criterion__{key}": value for key, value in criterion_params.items()},
    )
    return net, stopper


def fit_network(
    module, module_params, criterion, criterion_params, X, target, *, seed, **options
):
    """Build the net with :func:`make_network` and train it on ``(X, target)``.

    ``options`` are the keyword arguments of :func:`make_network`. The
    initial weights, the shuffling and any draws of the loss follow ``seed``.
    """
    net, stopper = make_network(
        module, module_params, criterion, criterion_params, **options
    )
    with seeded_torch(seed, options["device"]):
        net.fit(torch.as_tensor(X), torch.as_tensor(target))
    interruption = _handle_interruption(net, stopper, options["max_epochs"])
    if not all(torch.isfinite(p).all() for p in net.module_.parameters()):
        raise FloatingPointError(
            "Training diverged: the kept weights are not finite. Try a smaller "
            "learning_rate_init or a larger batch_size."
        )
    if interruption is not None:
        interruption.net = net
        raise interruption
    return net


class FitInterrupted(KeyboardInterrupt):
    """Ctrl-C during ``fit`` after at least one complete epoch.

    The estimator keeps the weights of the best complete epoch and is
    fitted; the interruption then propagates like any ``KeyboardInterrupt``,
    so that a loop or a search over fits stops too. ``net`` is the trained
    net, for the estimator to keep before the interruption leaves ``fit``.
    """

    net = None


def _handle_interruption(net, stopper, max_epochs):
    """Make a fit that the user interrupted (Ctrl-C) end in a defined state.

    skorch ends training quietly on a ``KeyboardInterrupt`` (its early stopping
    raises one too) and then restores the best epoch's weights. A user's
    interruption is told apart from early stopping by the stopper's
    ``stopped_``.
    With at least one complete epoch, the best weights are kept, the
    incomplete epoch is dropped from the history and a :class:`FitInterrupted`
    is returned, for the estimator to raise once it has kept the model;
    before the first epoch ends there are no weights worth keeping, and the
    interruption is raised again at once. ``None`` if nothing interrupted.
    """
    completed = sum(stopper.monitor in row for row in net.history)
    stopped_early = stopper.stopped_
    if completed == len(net.history) and (completed == max_epochs or stopped_early):
        return None
    if stopper.best_model_weights_ is None:
        raise KeyboardInterrupt(
            "fit was interrupted before its first epoch ended; no model was kept."
        )
    del net.history[completed:]
    return FitInterrupted(
        f"fit was interrupted after {completed} complete epoch(s); the estimator "
        f"is fitted with the weights of the best epoch ({stopper.best_epoch_})."
    )


def _silent(*args, **kwargs):
    pass


def float64_copy(module):
    """A float64 copy of ``module`` in evaluation mode, for inference.

    In double precision the rows passed with a row change its prediction by
    rounding only (about 1e-16 relative, from the order of the sums in matrix
    products, instead of about 1e-7 in float32), and quantile and CDF invert
    each other to about 1e-12.
    """
    return copy.deepcopy(module).to(torch.float64).eval()
