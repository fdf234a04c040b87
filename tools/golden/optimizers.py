#!/usr/bin/python3
"""Golden data for MLLrSched's optimizers: parameter trajectories from real PyTorch.

Runs under PyTorch 1.13 and 2.x; the data goes to the set of the running torch (goldenlib):
  Debian 12, torch 1.13.1:  /usr/bin/python3 tools/golden/optimizers.py  -> tools/golden/data/torch-1.13/optimizers/
  Debian 13, torch 2.6.0:   python3 tools/golden/optimizers.py           -> tools/golden/data/torch-2.6/optimizers/
read by test/MLLrSched.Trainers.Tests/Optimizers/GoldenParityTests.cs (the set of the engine's libtorch) and
TorchSemanticsTests.cs (the 2.6 set, replayed with "torch_semantics": "2.x" on any libtorch).

The committed sets are made with OpenBLAS's Haswell kernels and ATen's AVX2 dispatch, the kernels Debian 12's torch
1.13 picks on the development machine (an AMD EPYC with AVX-512), so that the two sets differ only where PyTorch's own
formulas changed: with the same kernels the problem's forward and backward are bit-identical across 1.13 and 2.6.
cpu_variation.py then measures how far other kernel families move the numbers. The script refuses to write the
committed set with a BLAS that is not OpenBLAS (Debian 13's python3-torch pulls in the reference BLAS; install
libopenblas0-pthread, or point LD_LIBRARY_PATH at its openblas-pthread folder):
  OPENBLAS_CORETYPE=Haswell ATEN_CPU_CAPABILITY=avx2 python3 tools/golden/optimizers.py

Both versions run the same cases with the same specs, on PyTorch's default CPU path (single-tensor: foreach and fused
are off on the CPU in 2.x unless asked for, which the script checks). Cases for arguments that only 2.x has (NAdam and
RAdam's maximize and decoupled_weight_decay, SGD's default lr) are recorded by 2.x only (CASES_2X).

Every case is one optimizer JSON spec (the same text the C# side gives to OptimizerFactory) run for 100 steps on a
fixed problem with fixed data and initial parameters, all stored in the JSON. Recorded: the loss of every step, the
parameters after selected steps, the final per-parameter optimizer state and the param_groups of state_dict().

The torch.optim classes are the running PyTorch's own. Lion, Lamb and Adafactor are not in torch.optim (2.x's
torch.optim.Adafactor is another algorithm); the classes below are transcriptions, op for op, of their reference
implementations:
  Lion      -- lucidrains/lion-pytorch, lion_pytorch/lion_pytorch.py (update_fn, class Lion)
  Lamb      -- huggingface/pytorch-image-models (timm 0.9.x), timm/optim/lamb.py (class Lamb)
  Adafactor -- huggingface/transformers, src/transformers/optimization.py (class Adafactor)
"""
import json
import math
import os
import sys

import torch

from goldenlib import openblas_core, out_dir, torch_package

torch.set_num_threads(1)

TORCH_MAJOR = int(torch.__version__.split(".")[0])

STEPS = 100
RECORD_AFTER = [1, 2, 3, 5, 10, 20, 50, 100]


# ---------------------------------------------------------------- reference transcriptions

class Lion(torch.optim.Optimizer):
    """lion-pytorch's Lion (decoupled weight decay, sign update, then the momentum update)."""

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0):
        assert lr > 0.
        assert all(0. <= beta <= 1. for beta in betas)
        super().__init__(params, dict(lr=lr, betas=betas, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group['params']:
                if p.grad is None:
                    continue
                lr, wd = group['lr'], group['weight_decay']
                beta1, beta2 = group['betas']
                state = self.state[p]
                if len(state) == 0:
                    state['exp_avg'] = torch.zeros_like(p)
                exp_avg = state['exp_avg']
                p.data.mul_(1. - lr * wd)
                update = exp_avg.clone().mul_(beta1).add(p.grad, alpha=1. - beta1).sign_()
                p.add_(update, alpha=-lr)
                exp_avg.mul_(beta2).add_(p.grad, alpha=1. - beta2)


class Lamb(torch.optim.Optimizer):
    """timm's Lamb (NVIDIA FusedLAMB behaviour): global grad-norm clipping, trust ratio, step kept in the group.
    max_grad_norm=None (no clipping) follows later timm versions."""

    def __init__(self, params, lr=1e-3, bias_correction=True, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.01,
                 grad_averaging=True, max_grad_norm=1.0, trust_clip=False, always_adapt=False):
        super().__init__(params, dict(lr=lr, bias_correction=bias_correction, betas=betas, eps=eps,
                                      weight_decay=weight_decay, grad_averaging=grad_averaging,
                                      max_grad_norm=max_grad_norm, trust_clip=trust_clip, always_adapt=always_adapt))

    @torch.no_grad()
    def step(self, closure=None):
        device = self.param_groups[0]['params'][0].device
        one_tensor = torch.tensor(1.0, device=device)
        clip = None
        if self.defaults['max_grad_norm'] is not None:
            global_grad_norm = torch.zeros(1, device=device)
            for group in self.param_groups:
                for p in group['params']:
                    if p.grad is not None:
                        global_grad_norm.add_(p.grad.pow(2).sum())
            global_grad_norm = torch.sqrt(global_grad_norm)
            max_grad_norm = torch.tensor(self.defaults['max_grad_norm'], device=device)
            clip = torch.where(global_grad_norm > max_grad_norm, global_grad_norm / max_grad_norm, one_tensor)
        for group in self.param_groups:
            beta1, beta2 = group['betas']
            beta3 = 1 - beta1 if group['grad_averaging'] else 1.0
            group['step'] = group['step'] + 1 if 'step' in group else 1
            if group['bias_correction']:
                bias_correction1 = 1 - beta1 ** group['step']
                bias_correction2 = 1 - beta2 ** group['step']
            else:
                bias_correction1, bias_correction2 = 1.0, 1.0
            for p in group['params']:
                if p.grad is None:
                    continue
                grad = p.grad.div_(clip) if clip is not None else p.grad
                state = self.state[p]
                if len(state) == 0:
                    state['exp_avg'] = torch.zeros_like(p)
                    state['exp_avg_sq'] = torch.zeros_like(p)
                exp_avg, exp_avg_sq = state['exp_avg'], state['exp_avg_sq']
                exp_avg.mul_(beta1).add_(grad, alpha=beta3)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                denom = (exp_avg_sq.sqrt() / math.sqrt(bias_correction2)).add_(group['eps'])
                update = (exp_avg / bias_correction1).div_(denom)
                weight_decay = group['weight_decay']
                if weight_decay != 0:
                    update.add_(p, alpha=weight_decay)
                if weight_decay != 0 or group['always_adapt']:
                    w_norm = p.norm(2.0)
                    g_norm = update.norm(2.0)
                    trust_ratio = torch.where(w_norm > 0, torch.where(g_norm > 0, w_norm / g_norm, one_tensor), one_tensor)
                    if group['trust_clip']:
                        trust_ratio = torch.minimum(trust_ratio, one_tensor)
                    update.mul_(trust_ratio)
                p.add_(update, alpha=-group['lr'])


class Adafactor(torch.optim.Optimizer):
    """transformers' Adafactor (float32 parameters): factored second moment, relative step, update clipping."""

    def __init__(self, params, lr=None, eps=(1e-30, 1e-3), clip_threshold=1.0, decay_rate=-0.8, beta1=None,
                 weight_decay=0.0, scale_parameter=True, relative_step=True, warmup_init=False):
        if lr is not None and relative_step:
            raise ValueError("Cannot combine manual `lr` and `relative_step=True` options")
        if warmup_init and not relative_step:
            raise ValueError("`warmup_init=True` requires `relative_step=True`")
        super().__init__(params, dict(lr=lr, eps=eps, clip_threshold=clip_threshold, decay_rate=decay_rate, beta1=beta1,
                                      weight_decay=weight_decay, scale_parameter=scale_parameter,
                                      relative_step=relative_step, warmup_init=warmup_init))

    @staticmethod
    def _get_lr(param_group, param_state):
        rel_step_sz = param_group["lr"]
        if param_group["relative_step"]:
            min_step = 1e-6 * param_state["step"] if param_group["warmup_init"] else 1e-2
            rel_step_sz = min(min_step, 1.0 / math.sqrt(param_state["step"]))
        param_scale = 1.0
        if param_group["scale_parameter"]:
            param_scale = max(param_group["eps"][1], param_state["RMS"])
        return param_scale * rel_step_sz

    @staticmethod
    def _rms(tensor):
        return tensor.norm(2) / (tensor.numel() ** 0.5)

    @staticmethod
    def _approx_sq_grad(exp_avg_sq_row, exp_avg_sq_col):
        r_factor = (exp_avg_sq_row / exp_avg_sq_row.mean(dim=-1, keepdim=True)).rsqrt_().unsqueeze(-1)
        c_factor = exp_avg_sq_col.unsqueeze(-2).rsqrt()
        return torch.mul(r_factor, c_factor)

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad
                state = self.state[p]
                grad_shape = grad.shape
                factored = len(grad_shape) >= 2
                use_first_moment = group["beta1"] is not None
                if len(state) == 0:
                    state["step"] = 0
                    if use_first_moment:
                        state["exp_avg"] = torch.zeros_like(grad)
                    if factored:
                        state["exp_avg_sq_row"] = torch.zeros(grad_shape[:-1]).to(grad)
                        state["exp_avg_sq_col"] = torch.zeros(grad_shape[:-2] + grad_shape[-1:]).to(grad)
                    else:
                        state["exp_avg_sq"] = torch.zeros_like(grad)
                    state["RMS"] = 0
                state["step"] += 1
                state["RMS"] = self._rms(p)
                lr = self._get_lr(group, state)
                beta2t = 1.0 - math.pow(state["step"], group["decay_rate"])
                update = (grad ** 2) + group["eps"][0]
                if factored:
                    exp_avg_sq_row = state["exp_avg_sq_row"]
                    exp_avg_sq_col = state["exp_avg_sq_col"]
                    exp_avg_sq_row.mul_(beta2t).add_(update.mean(dim=-1), alpha=(1.0 - beta2t))
                    exp_avg_sq_col.mul_(beta2t).add_(update.mean(dim=-2), alpha=(1.0 - beta2t))
                    update = self._approx_sq_grad(exp_avg_sq_row, exp_avg_sq_col)
                    update.mul_(grad)
                else:
                    exp_avg_sq = state["exp_avg_sq"]
                    exp_avg_sq.mul_(beta2t).add_(update, alpha=(1.0 - beta2t))
                    update = exp_avg_sq.rsqrt().mul_(grad)
                update.div_((self._rms(update) / group["clip_threshold"]).clamp_(min=1.0))
                update.mul_(lr)
                if use_first_moment:
                    exp_avg = state["exp_avg"]
                    exp_avg.mul_(group["beta1"]).add_(update, alpha=(1 - group["beta1"]))
                    update = exp_avg
                if group["weight_decay"] != 0:
                    p.add_(p, alpha=(-group["weight_decay"] * lr))
                p.add_(-update)


CLASSES = {
    "SGD": torch.optim.SGD, "Adam": torch.optim.Adam, "AdamW": torch.optim.AdamW, "Adamax": torch.optim.Adamax,
    "NAdam": torch.optim.NAdam, "RAdam": torch.optim.RAdam, "Adagrad": torch.optim.Adagrad,
    "Adadelta": torch.optim.Adadelta, "RMSprop": torch.optim.RMSprop, "ASGD": torch.optim.ASGD,
    "Rprop": torch.optim.Rprop, "LBFGS": torch.optim.LBFGS, "SparseAdam": torch.optim.SparseAdam,
    "Lion": Lion, "Lamb": Lamb, "Adafactor": Adafactor,
}
PAIRS = {"betas", "etas", "step_sizes", "eps"}


# ---------------------------------------------------------------- spec -> torch optimizer (MLLrSched's JSON rules)

def is_no_decay(p):
    return p.dim() <= 1


def glob_match(pattern, name):
    import fnmatch
    return fnmatch.fnmatchcase(name, pattern)


def layer_ids(names):
    """MLLrSched's default layer-id rule (docs/optimizers.md): first all-digit component names the layer."""
    keys = []
    for n in names:
        parts = n.split(".")
        key = None
        for i, part in enumerate(parts):
            if part.isdigit():
                key = ".".join(parts[:i + 1])
                break
        keys.append(key)
    ids, by_key, seen, pending = [0] * len(names), {}, False, []
    for i, k in enumerate(keys):
        if k is not None:
            seen = True
            if k not in by_key:
                by_key[k] = len(by_key) + 1
            ids[i] = by_key[k]
        elif seen:
            pending.append(i)
    for i in pending:
        ids[i] = len(by_key) + 1
    return ids


def convert(key, value):
    if key in PAIRS and isinstance(value, list):
        return tuple(value)
    return value


def build(spec, named):
    spec = dict(spec)
    cls = CLASSES[spec.pop("type")]
    group_specs = spec.pop("param_groups", [])
    layer_decay = spec.pop("layer_decay", None)
    kwargs = {k: convert(k, v) for k, v in spec.items()}
    assigned = [-1] * len(named)
    listed = []
    for gi, g in enumerate(group_specs):
        sel = g["params"]
        if sel == "all":
            pick = lambda n, p: True
        elif sel == "decay":
            pick = lambda n, p: not is_no_decay(p)
        elif sel == "no_decay":
            pick = lambda n, p: is_no_decay(p)
        else:
            pick = lambda n, p, pats=sel: any(glob_match(pat, n) for pat in pats)
        members = []
        for i, (n, p) in enumerate(named):
            if pick(n, p) and assigned[i] < 0:
                assigned[i] = gi
                members.append(i)
        listed.append(({k: convert(k, v) for k, v in g.items() if k != "params"}, members))
    groups = []
    rest = [i for i in range(len(named)) if assigned[i] < 0]
    if rest:
        groups.append(({}, rest))
    groups += [(o, m) for o, m in listed if m]
    if layer_decay is not None:
        ids = layer_ids([n for n, _ in named])
        top = max(ids)
        split = []
        for overrides, members in groups:
            lr = overrides.get("lr", kwargs.get("lr"))
            for lid in sorted({ids[i] for i in members}):
                o = dict(overrides)
                o["lr"] = lr * layer_decay ** (top - lid)
                split.append((o, [i for i in members if ids[i] == lid]))
        groups = split
    torch_groups = [dict(o, params=[named[i][1] for i in m]) for o, m in groups]
    names = [[named[i][0] for i in m] for _, m in groups]
    return cls(torch_groups, **kwargs), names


# ---------------------------------------------------------------- problems

def mlp_problem():
    g = torch.Generator().manual_seed(1234)
    x = torch.randn(32, 6, generator=g)
    y = torch.randn(32, 3, generator=g)
    init = {
        "0.weight": torch.randn(5, 6, generator=g) * 0.5,
        "0.bias": torch.randn(5, generator=g) * 0.1,
        "2.weight": torch.randn(3, 5, generator=g) * 0.5,
        "2.bias": torch.randn(3, generator=g) * 0.1,
    }
    return {"kind": "mlp", "x": x, "y": y, "init": init}


def embedding_problem():
    g = torch.Generator().manual_seed(99)
    init = {"weight": torch.randn(10, 4, generator=g)}
    target = torch.randn(8, 4, generator=g)
    # One index batch per step, with repeated rows so that coalescing matters.
    indices = torch.randint(0, 10, (STEPS, 8), generator=g)
    return {"kind": "embedding", "target": target, "indices": indices, "init": init}


def loss_fn(problem, params, step, negate):
    if problem["kind"] == "mlp":
        h = torch.tanh(problem["x"].matmul(params["0.weight"].t()).add(params["0.bias"]))
        pred = h.matmul(params["2.weight"].t()).add(params["2.bias"])
        diff = pred.sub(problem["y"])
        loss = (diff * diff).mean()
    else:
        idx = problem["indices"][step]
        rows = torch.nn.functional.embedding(idx, params["weight"], sparse=True)
        diff = rows.sub(problem["target"])
        loss = (diff * diff).sum()
    return loss.neg() if negate else loss


def check_sparse_gradient(problem):
    """The C# side builds the embedding gradient by hand: indices [1, n] = the batch, values = 2·(rows − target)."""
    w = problem["init"]["weight"].clone().requires_grad_(True)
    loss_fn(problem, {"weight": w}, 0, False).backward()
    idx = problem["indices"][0]
    expected = torch.sparse_coo_tensor(idx.reshape(1, -1), (w.detach()[idx] - problem["target"]) * 2, w.shape)
    assert w.grad.is_sparse and not w.grad.is_coalesced()
    assert torch.equal(w.grad._indices(), expected._indices())
    assert torch.equal(w.grad._values(), expected._values())


# ---------------------------------------------------------------- cases

CASES = [
    ("SGD_plain", "mlp", {"type": "SGD", "lr": 0.05}),
    ("SGD_momentum_dampening_wd", "mlp", {"type": "SGD", "lr": 0.05, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01}),
    ("SGD_nesterov_wd", "mlp", {"type": "SGD", "lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("SGD_maximize_groups", "mlp_neg", {"type": "SGD", "lr": 0.05, "momentum": 0.5, "maximize": True,
                                        "param_groups": [{"params": "no_decay", "lr": 0.02, "momentum": 0.0}]}),
    ("Adam_default", "mlp", {"type": "Adam", "lr": 0.01}),
    ("Adam_amsgrad_wd", "mlp", {"type": "Adam", "lr": 0.01, "betas": [0.8, 0.99], "eps": 1e-6, "weight_decay": 0.05, "amsgrad": True}),
    ("Adam_maximize", "mlp_neg", {"type": "Adam", "lr": 0.005, "maximize": True}),
    ("AdamW_default", "mlp", {"type": "AdamW", "lr": 0.01, "weight_decay": 0.1}),
    ("AdamW_amsgrad_no_decay", "mlp", {"type": "AdamW", "lr": 0.01, "betas": [0.9, 0.95], "weight_decay": 0.1, "amsgrad": True,
                                       "param_groups": [{"params": "no_decay", "weight_decay": 0.0}]}),
    ("AdamW_layer_decay", "mlp", {"type": "AdamW", "lr": 0.02, "weight_decay": 0.05, "layer_decay": 0.5,
                                  "param_groups": [{"params": "no_decay", "weight_decay": 0.0}]}),
    ("AdamW_patterns_maximize", "mlp_neg", {"type": "AdamW", "lr": 0.01, "maximize": True,
                                            "param_groups": [{"params": ["2.*"], "lr": 0.003, "betas": [0.5, 0.9]}]}),
    ("Adamax_default", "mlp", {"type": "Adamax"}),
    ("Adamax_wd_maximize", "mlp_neg", {"type": "Adamax", "lr": 0.01, "betas": [0.8, 0.99], "weight_decay": 0.02, "maximize": True}),
    ("NAdam_default", "mlp", {"type": "NAdam"}),
    ("NAdam_momentum_decay_wd", "mlp", {"type": "NAdam", "lr": 0.01, "momentum_decay": 0.01, "weight_decay": 0.02}),
    ("RAdam_default", "mlp", {"type": "RAdam", "lr": 0.01}),
    ("RAdam_wd", "mlp", {"type": "RAdam", "lr": 0.02, "betas": [0.85, 0.99], "weight_decay": 0.05}),
    ("Adagrad_default", "mlp", {"type": "Adagrad", "lr": 0.05}),
    ("Adagrad_decay_init_wd", "mlp", {"type": "Adagrad", "lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1,
                                      "eps": 1e-8, "weight_decay": 0.01}),
    ("Adagrad_maximize", "mlp_neg", {"type": "Adagrad", "lr": 0.05, "maximize": True}),
    ("Adagrad_sparse", "embedding", {"type": "Adagrad", "lr": 0.1, "lr_decay": 0.01}),
    ("Adadelta_default", "mlp", {"type": "Adadelta"}),
    ("Adadelta_wd_maximize", "mlp_neg", {"type": "Adadelta", "lr": 0.5, "rho": 0.8, "eps": 1e-5, "weight_decay": 0.01, "maximize": True}),
    ("RMSprop_default", "mlp", {"type": "RMSprop", "lr": 0.005}),
    ("RMSprop_centered_momentum_wd", "mlp", {"type": "RMSprop", "lr": 0.002, "alpha": 0.9, "momentum": 0.8, "centered": True,
                                             "weight_decay": 0.01}),
    ("RMSprop_centered_maximize", "mlp_neg", {"type": "RMSprop", "lr": 0.002, "centered": True, "maximize": True}),
    ("RMSprop_momentum", "mlp", {"type": "RMSprop", "lr": 0.002, "momentum": 0.5, "eps": 1e-6}),
    ("ASGD_averaging", "mlp", {"type": "ASGD", "lr": 0.05, "lambd": 1e-3, "alpha": 0.75, "t0": 20, "weight_decay": 0.01}),
    ("ASGD_maximize", "mlp_neg", {"type": "ASGD", "lr": 0.05, "t0": 50, "maximize": True}),
    ("Rprop_default", "mlp", {"type": "Rprop", "lr": 0.01}),
    ("Rprop_etas_step_sizes", "mlp", {"type": "Rprop", "lr": 0.02, "etas": [0.3, 1.5], "step_sizes": [1e-4, 0.05]}),
    ("Rprop_maximize", "mlp_neg", {"type": "Rprop", "lr": 0.01, "maximize": True}),
    ("LBFGS_fixed_step", "mlp", {"type": "LBFGS", "lr": 0.1, "max_iter": 4, "history_size": 5}),
    ("LBFGS_strong_wolfe", "mlp", {"type": "LBFGS", "lr": 1, "max_iter": 5, "history_size": 4, "line_search_fn": "strong_wolfe"}),
    ("SparseAdam_default", "embedding", {"type": "SparseAdam", "lr": 0.05}),
    ("SparseAdam_betas_maximize", "embedding_neg", {"type": "SparseAdam", "lr": 0.02, "betas": [0.8, 0.95], "eps": 1e-6,
                                                    "maximize": True}),
    ("Lion_default", "mlp", {"type": "Lion", "lr": 1e-3}),
    ("Lion_wd_betas", "mlp", {"type": "Lion", "lr": 2e-3, "betas": [0.95, 0.98], "weight_decay": 0.1}),
    ("Lamb_default", "mlp", {"type": "Lamb", "lr": 0.01}),
    ("Lamb_options", "mlp", {"type": "Lamb", "lr": 0.01, "bias_correction": False, "grad_averaging": False, "trust_clip": True,
                             "always_adapt": True, "max_grad_norm": None, "weight_decay": 0.0}),
    ("Lamb_clip_groups", "mlp", {"type": "Lamb", "lr": 0.02, "max_grad_norm": 0.05,
                                 "param_groups": [{"params": "no_decay", "weight_decay": 0.0}]}),
    ("Adafactor_default", "mlp", {"type": "Adafactor"}),
    ("Adafactor_manual_lr_beta1_wd", "mlp", {"type": "Adafactor", "lr": 0.01, "relative_step": False, "scale_parameter": False,
                                             "beta1": 0.9, "weight_decay": 0.01, "clip_threshold": 0.5}),
    ("Adafactor_warmup", "mlp", {"type": "Adafactor", "warmup_init": True, "decay_rate": -0.5, "eps": [1e-30, 0.01]}),
]

# Arguments PyTorch 1.13 does not have (its constructors refuse them): recorded by PyTorch 2.x only.
CASES_2X = [
    ("SGD_default_lr_momentum", "mlp", {"type": "SGD", "momentum": 0.9}),
    ("NAdam_decoupled_maximize", "mlp_neg", {"type": "NAdam", "lr": 0.01, "weight_decay": 0.05, "decoupled_weight_decay": True,
                                             "maximize": True}),
    ("NAdam_decoupled_groups", "mlp", {"type": "NAdam", "lr": 0.01, "betas": [0.5, 0.99], "weight_decay": 0.1,
                                       "decoupled_weight_decay": True,
                                       "param_groups": [{"params": "no_decay", "decoupled_weight_decay": False}]}),
    ("RAdam_decoupled_maximize", "mlp_neg", {"type": "RAdam", "lr": 0.02, "betas": [0.85, 0.99], "weight_decay": 0.05,
                                             "decoupled_weight_decay": True, "maximize": True}),
    ("RAdam_maximize_l2", "mlp_neg", {"type": "RAdam", "lr": 0.01, "weight_decay": 0.02, "maximize": True}),
]


def all_cases():
    return CASES + (CASES_2X if TORCH_MAJOR >= 2 else [])


def tensor_json(t):
    t = t.detach()
    if t.is_sparse:
        t = t.to_dense()
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def value_json(v):
    if isinstance(v, torch.Tensor):
        return tensor_json(v)
    if isinstance(v, (list, tuple)):
        return [value_json(x) for x in v]
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, (int, float)):
        return v if math.isfinite(v) else str(v)
    raise TypeError(type(v))


def run_case(name, problem_kind, spec, problems):
    negate = problem_kind.endswith("_neg")
    problem = problems[problem_kind.replace("_neg", "")]
    params = {k: v.clone().requires_grad_(True) for k, v in problem["init"].items()}
    named = list(params.items())
    opt, group_names = build(spec, named)
    losses, trajectory = [], {}
    for step in range(STEPS):
        def closure():
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(problem, params, step, negate)
            loss.backward()
            return loss
        if spec["type"] == "LBFGS":
            loss = opt.step(closure)
        else:
            loss = closure()
            opt.step()
        losses.append(float(loss))
        if step + 1 in RECORD_AFTER:
            trajectory[str(step + 1)] = {k: tensor_json(v) for k, v in params.items()}
    sd = opt.state_dict()
    state = {}
    for idx, entries in sd["state"].items():
        state[str(idx)] = {k: value_json(v) for k, v in entries.items() if k != "al"}
    groups = []
    for g, names in zip(sd["param_groups"], group_names):
        d = {k: value_json(v) for k, v in g.items() if k != "params"}
        d["params"] = names
        groups.append(d)
    for k, v in (trajectory[str(STEPS)].items()):
        assert all(math.isfinite(x) for x in v["data"]), f"{name}: {k} diverged"
    return {"name": name, "problem": problem_kind, "spec": spec, "losses": losses, "trajectory": trajectory,
            "state": state, "param_groups": groups}


def defaults_args():
    """What defaults_of_every_class passes: SGD's lr is required in 1.13 (0.1 here), has a default in 2.x."""
    return {"SGD": {"lr": 0.1}} if TORCH_MAJOR < 2 else {}


def defaults_of_every_class():
    """param_groups[0] of each class built with its defaults (and defaults_args())."""
    out = {}
    for name, cls in CLASSES.items():
        p = torch.zeros(2, 2, requires_grad=True)
        opt = cls([p], **defaults_args().get(name, {}))
        g = opt.state_dict()["param_groups"][0]
        out[name] = {k: value_json(v) for k, v in g.items() if k != "params"}
    return out


def cpu_capability():
    """The ATen CPU kernels the running torch dispatches to (AVX2, AVX512, ...): elementwise ops round the same on all
    of them, but a golden file says which made it."""
    for line in torch.__config__.show().splitlines():
        if "CPU capability usage:" in line:
            return line.split(":", 1)[1].strip()
    return "unknown"


def check_single_tensor_path():
    """PyTorch 2.x picks foreach/fused by device when they are None; on the CPU both must be off, so that the data is
    the single-tensor path MLLrSched transcribes."""
    if TORCH_MAJOR < 2:
        return
    from torch.optim.optimizer import _default_to_fused_or_foreach
    p = torch.zeros(2, requires_grad=True)
    assert _default_to_fused_or_foreach([p], differentiable=False, use_fused=False) == (False, False), \
        "this PyTorch defaults to foreach/fused on the CPU; pass foreach=False"


def main():
    if openblas_core().startswith("unknown") and "--out" not in sys.argv[1:]:
        sys.exit(f"torch {torch.__version__} runs on a BLAS that is not OpenBLAS ({openblas_core()}); the committed set is made "
                 "with OpenBLAS (see the docstring), so that cpu_variation.py can measure the other kernels. Install "
                 "libopenblas0-pthread or set LD_LIBRARY_PATH to its openblas-pthread folder; --out DIR writes anywhere.")
    problems = {"mlp": mlp_problem(), "embedding": embedding_problem()}
    check_sparse_gradient(problems["embedding"])
    check_single_tensor_path()
    cases = [run_case(n, k, s, problems) for n, k, s in all_cases()]
    out = {
        "source": "tools/golden/optimizers.py",
        "torch_version": torch.__version__,
        "torch_package": torch_package(),
        "openblas_core": openblas_core(),
        "cpu_capability": cpu_capability(),
        "threads": torch.get_num_threads(),
        "steps": STEPS,
        "problems": {
            "mlp": {
                "x": tensor_json(problems["mlp"]["x"]), "y": tensor_json(problems["mlp"]["y"]),
                "init": {k: tensor_json(v) for k, v in problems["mlp"]["init"].items()},
                "loss": "mean((tanh(x @ W0^T + b0) @ W2^T + b2 - y)^2); negated for *_neg",
            },
            "embedding": {
                "target": tensor_json(problems["embedding"]["target"]),
                "indices": problems["embedding"]["indices"].tolist(),
                "init": {k: tensor_json(v) for k, v in problems["embedding"]["init"].items()},
                "loss": "sum((embedding(indices[step], weight, sparse=True) - target)^2); negated for *_neg",
            },
        },
        "defaults": defaults_of_every_class(),
        "defaults_args": defaults_args(),
        "cases": cases,
    }
    path = os.path.join(out_dir("optimizers"), "optimizers.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
    print(f"wrote {path}: {len(cases)} cases, torch {torch.__version__}")
    for c in cases:
        print(f"  {c['name']:32s} loss {c['losses'][0]:.6g} -> {c['losses'][-1]:.6g}")


if __name__ == "__main__":
    sys.exit(main())
