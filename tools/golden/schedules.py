#!/usr/bin/python3
"""Golden data for the learning-rate schedules (src/Trainers/Schedules).

Run with /usr/bin/python3 (Debian python3-torch 1.13.1):   /usr/bin/python3 tools/golden/schedules.py

Writes tools/golden/data/schedules/*.json. Each case holds our JSON spec, the parameter groups, how the scheduler
is driven (plain steps, metrics, explicit epochs, or a last_epoch resume) and the expected value after every step:
row k is get_last_lr() after k scheduler steps (row 0: right after construction).

  torch.json     torch.optim.lr_scheduler itself (real PyTorch output)
  hf.json        Hugging Face schedules: our Python transcription of the lambdas in
                 huggingface/transformers src/transformers/optimization.py @ 005edacb6b5dabbf0843e92c6623de9e07ca6241,
                 run through PyTorch's LambdaLR
  timm.json      timm options: our transcription of CosineLRScheduler._get_lr / StepLRScheduler._get_lr /
                 PlateauLRScheduler.step and Scheduler._add_noise from huggingface/pytorch-image-models
                 timm/scheduler/{cosine_lr,step_lr,plateau_lr,scheduler}.py @ aa4b5850, noise drawn with torch.Generator
  classic.json   Noam (harvardnlp/annotated-transformer the_annotated_transformer.py `rate` @ 0a91a254),
                 BERT warmup_linear (huggingface/transformers pytorch_pretrained_bert/optimization.py @ 1de35b62),
                 torchvision detection warmup_lr_scheduler (pytorch/vision references/detection/utils.py @ 227111b6),
                 detectron2 _get_warmup_factor_at_iter on WarmupMultiStepLR (facebookresearch/detectron2
                 detectron2/solver/lr_scheduler.py @ 606437e6), Goyal et al. 2017 gradual warmup (§2.2 formula)
  rng.json       torch.Generator draws (randn/rand after manual_seed) for the noise generator
"""
import json
import math
import os
import warnings

import torch
from torch.optim import lr_scheduler as L

warnings.filterwarnings("ignore")
HERE = os.path.dirname(os.path.abspath(__file__))
from goldenlib import meta, out_dir

OUT = out_dir("schedules")
META = meta("tools/golden/schedules.py")

# ----------------------------------------------------------------------------------------------- helpers

MATH_NAMES = {n: getattr(math, n) for n in
              ["floor", "ceil", "sqrt", "exp", "log", "log2", "log10", "sin", "cos", "tan", "tanh", "pow", "pi", "e", "inf"]}
MATH_NAMES.update({"abs": abs, "min": min, "max": max, "round": round, "math": math})


def expr_fn(text, var="epoch"):
    """The Python meaning of one of our expression strings (the same text our parser reads)."""
    scope = dict(MATH_NAMES, __builtins__={})
    if text.strip().startswith("lambda"):
        return eval(text, scope)
    return eval(f"lambda {var}: {text}", scope)


def lambdas(v):
    return [expr_fn(x) for x in v] if isinstance(v, list) else expr_fn(v)


def make_optimizer(groups, kind):
    params = []
    for g in groups:
        d = {"params": [torch.nn.Parameter(torch.zeros(1))], "lr": g["lr"]}
        params.append(d)
    if kind == "adam":
        opt = torch.optim.Adam(params, lr=groups[0]["lr"], betas=(groups[0].get("beta1", 0.9), 0.999))
    else:
        opt = torch.optim.SGD(params, lr=groups[0]["lr"], momentum=groups[0].get("momentum", 0.9))
    return opt


def group_dicts(groups, kind):
    out = []
    for g in groups:
        d = {"lr": g["lr"]}
        if kind == "adam":
            d["beta1"] = g.get("beta1", 0.9)
            d["beta2"] = 0.999
        else:
            d["momentum"] = g.get("momentum", 0.9)
        out.append(d)
    return out


def per_group(v):
    return list(v) if isinstance(v, list) else v


def build(spec, opt):
    """A real torch scheduler from our JSON spec (PyTorch's names, so this is a direct mapping)."""
    s = dict(spec)
    t = s.pop("type")
    if t == "LambdaLR":
        return L.LambdaLR(opt, lambdas(s["lr_lambda"]))
    if t == "MultiplicativeLR":
        return L.MultiplicativeLR(opt, lambdas(s["lr_lambda"]))
    if t == "SequentialLR":
        subs = [build(x, opt) for x in s["schedulers"]]
        return L.SequentialLR(opt, subs, s["milestones"])
    if t == "ChainedScheduler":
        return L.ChainedScheduler([build(x, opt) for x in s["schedulers"]])
    if t == "CyclicLR" and "scale_fn" in s:
        s["scale_fn"] = expr_fn(s["scale_fn"], "x")
    for k in ("max_lr", "base_lr", "base_momentum", "max_momentum", "min_lr"):
        if k in s:
            s[k] = per_group(s[k])
    return getattr(L, t)(opt, **s)


def momenta(opt, kind):
    return [g["betas"][0] if kind == "adam" else g["momentum"] for g in opt.param_groups]


def lrs(opt):
    return [g["lr"] for g in opt.param_groups]


def run_torch(case):
    kind = case.get("optimizer", "sgd")
    opt = make_optimizer(case["groups"], kind)
    sched = build(case["spec"], opt)
    track_m = case.get("momentum", False)
    out_lr, out_m = [lrs(opt)], [momenta(opt, kind)]
    mode = case.get("mode", "steps")
    if mode == "steps":
        for _ in range(case["steps"] - 1):
            opt.step()
            sched.step()
            out_lr.append(list(sched.get_last_lr()))
            out_m.append(momenta(opt, kind))
    elif mode == "metrics":
        for m in case["metrics"]:
            opt.step()
            sched.step(m)
            out_lr.append(lrs(opt))
            out_m.append(momenta(opt, kind))
    elif mode == "epochs":
        for e in case["epochs"]:
            opt.step()
            sched.step(e)
            out_lr.append(list(sched.get_last_lr()))
            out_m.append(momenta(opt, kind))
    case["lr"] = out_lr
    if track_m:
        case["momentum_values"] = out_m
    case["groups"] = group_dicts(case["groups"], kind)
    return case


def run_resume(case):
    """PyTorch's last_epoch resume: run L steps, move the optimizer's param_groups (lr, initial_lr, ...) into a
    fresh optimizer, construct the scheduler with last_epoch=L and continue."""
    kind = case.get("optimizer", "sgd")
    last = case["last_epoch"]
    opt = make_optimizer(case["groups"], kind)
    sched = build(case["spec"], opt)
    for _ in range(last):
        opt.step()
        sched.step()
    saved = opt.state_dict()["param_groups"]
    # The uninterrupted run from t = last + 1 on, for comparison with PyTorch's own resume.
    ref_opt = make_optimizer(case["groups"], kind)
    ref = build(case["spec"], ref_opt)
    uninterrupted = []
    for k in range(last + case["steps"]):
        ref_opt.step()
        ref.step()
        if k >= last:
            uninterrupted.append(lrs(ref_opt))
    opt2 = make_optimizer(case["groups"], kind)
    for g, s in zip(opt2.param_groups, saved):
        for k, v in s.items():
            if k != "params":
                g[k] = v
    resumed_groups = []
    for s in saved:
        d = {"lr": s["lr"], "initial_lr": s["initial_lr"]}
        if kind == "adam":
            d["beta1"], d["beta2"] = s["betas"]
        else:
            d["momentum"] = s["momentum"]
        resumed_groups.append(d)
    spec = dict(case["spec"])
    spec["last_epoch"] = last
    sched2 = build(spec, opt2)
    case["spec"] = spec
    out = [list(sched2.get_last_lr())]
    for _ in range(case["steps"] - 1):
        opt2.step()
        sched2.step()
        out.append(list(sched2.get_last_lr()))
    case["groups"] = resumed_groups
    same = all(abs(a - b) <= 1e-12 * max(abs(a), abs(b), 1e-300) for ra, rb in zip(out, uninterrupted) for a, b in zip(ra, rb))
    if same:
        case["lr"] = out
    else:
        # PyTorch's last_epoch resume disagrees with its own uninterrupted run (CosineAnnealingWarmRestarts sets
        # T_cur = last_epoch without folding it into the current period). Ours resumes to the uninterrupted values.
        case["lr"] = uninterrupted
        case["pytorch_resume_lr"] = out
        case["note"] = "PyTorch 1.13's last_epoch resume differs from its uninterrupted run; expected values are the uninterrupted run's"
    return case


def write(name, cases, extra=None):
    os.makedirs(OUT, exist_ok=True)
    doc = dict(META)
    if extra:
        doc.update(extra)
    doc["cases"] = cases
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(doc, f, separators=(",", ":"))
    print(f"{name}: {len(cases)} cases")


def lcg_metrics(n, seed, start=1.0, trend=-0.002, noise=0.05):
    """A deterministic noisy, plateauing loss curve."""
    out, x, s = [], start, seed
    for i in range(n):
        s = (1103515245 * s + 12345) % (2 ** 31)
        r = s / 2 ** 31 - 0.5
        x = x + trend * (1 if i < n // 3 else 0.05) + noise * r * 0.2
        out.append(round(x, 6))
    return out


# ------------------------------------------------------------------------------------------ PyTorch cases

def torch_cases():
    N = 1200
    one = [{"lr": 0.1, "momentum": 0.9}]
    two = [{"lr": 0.1, "momentum": 0.9}, {"lr": 0.02, "momentum": 0.8}]
    adam = [{"lr": 0.001, "beta1": 0.9}, {"lr": 0.0005, "beta1": 0.85}]
    C = []

    def c(name, spec, groups=one, steps=N, **kw):
        d = {"name": name, "spec": spec, "groups": groups, "steps": steps}
        d.update(kw)
        C.append(d)

    c("LambdaLR/exp", {"type": "LambdaLR", "lr_lambda": "0.995 ** epoch"})
    c("LambdaLR/per-group", {"type": "LambdaLR", "lr_lambda": ["epoch // 30 + 1", "0.95 ** (epoch / 10)"]}, two)
    c("LambdaLR/conditional", {"type": "LambdaLR", "lr_lambda": "lambda e: (e + 1) / 100 if e < 100 else 0.5 * (1 + math.cos(math.pi * (e - 100) / 1100))"})
    c("MultiplicativeLR/const", {"type": "MultiplicativeLR", "lr_lambda": "0.997"})
    c("MultiplicativeLR/varying", {"type": "MultiplicativeLR", "lr_lambda": ["1.0 if epoch % 100 else 0.5", "0.999 + 0.0005 * math.sin(epoch / 7)"]}, two)
    c("StepLR/30", {"type": "StepLR", "step_size": 30, "gamma": 0.7}, two)
    c("StepLR/1", {"type": "StepLR", "step_size": 1, "gamma": 0.995})
    c("MultiStepLR/dense", {"type": "MultiStepLR", "milestones": [0, 100, 250, 700, 701], "gamma": 0.5}, two)
    c("MultiStepLR/default-gamma", {"type": "MultiStepLR", "milestones": [300, 600, 900]})
    c("ConstantLR/default", {"type": "ConstantLR"})
    c("ConstantLR/long", {"type": "ConstantLR", "factor": 0.25, "total_iters": 400}, two)
    c("LinearLR/warmup", {"type": "LinearLR", "start_factor": 0.01, "total_iters": 300}, two)
    c("LinearLR/decay", {"type": "LinearLR", "start_factor": 1.0, "end_factor": 0.05, "total_iters": 1000})
    c("ExponentialLR/0.995", {"type": "ExponentialLR", "gamma": 0.995}, two)
    c("ExponentialLR/growth", {"type": "ExponentialLR", "gamma": 1.001})
    c("PolynomialLR/1", {"type": "PolynomialLR", "total_iters": 1000, "power": 1.0})
    c("PolynomialLR/2.5", {"type": "PolynomialLR", "total_iters": 700, "power": 2.5}, two)
    c("CosineAnnealingLR/long", {"type": "CosineAnnealingLR", "T_max": 1000}, two)
    c("CosineAnnealingLR/periodic", {"type": "CosineAnnealingLR", "T_max": 70, "eta_min": 0.001}, two)
    c("CosineAnnealingLR/T1", {"type": "CosineAnnealingLR", "T_max": 1, "eta_min": 0.01})
    c("CosineAnnealingWarmRestarts/T_mult1", {"type": "CosineAnnealingWarmRestarts", "T_0": 50, "eta_min": 1e-4}, two)
    c("CosineAnnealingWarmRestarts/T_mult2", {"type": "CosineAnnealingWarmRestarts", "T_0": 10, "T_mult": 2, "eta_min": 0.001}, two)
    c("CosineAnnealingWarmRestarts/T_mult3", {"type": "CosineAnnealingWarmRestarts", "T_0": 7, "T_mult": 3})
    iters = 13
    frac = [e + i / iters for e in range(90) for i in range(iters)]
    c("CosineAnnealingWarmRestarts/fractional-T_mult2", {"type": "CosineAnnealingWarmRestarts", "T_0": 5, "T_mult": 2, "eta_min": 0.001},
      two, steps=len(frac) + 1, mode="epochs", epochs=frac)
    c("CosineAnnealingWarmRestarts/fractional-T_mult1", {"type": "CosineAnnealingWarmRestarts", "T_0": 3, "eta_min": 0.0},
      one, steps=len(frac) + 1, mode="epochs", epochs=frac)
    c("CyclicLR/triangular", {"type": "CyclicLR", "base_lr": 0.001, "max_lr": 0.1, "step_size_up": 100}, one, momentum=True)
    c("CyclicLR/triangular2-asym", {"type": "CyclicLR", "base_lr": [0.001, 0.0005], "max_lr": [0.1, 0.05], "step_size_up": 60,
                                    "step_size_down": 140, "mode": "triangular2", "base_momentum": [0.8, 0.7], "max_momentum": [0.95, 0.9]},
      two, momentum=True)
    c("CyclicLR/exp_range", {"type": "CyclicLR", "base_lr": 0.001, "max_lr": 0.1, "step_size_up": 75, "mode": "exp_range", "gamma": 0.998}, two, momentum=True)
    c("CyclicLR/scale_fn-cycle", {"type": "CyclicLR", "base_lr": 0.01, "max_lr": 0.2, "step_size_up": 50,
                                  "scale_fn": "1 / (1.0 + 0.5 * (x - 1))", "scale_mode": "cycle"}, one, momentum=True)
    c("CyclicLR/scale_fn-iterations", {"type": "CyclicLR", "base_lr": 0.01, "max_lr": 0.2, "step_size_up": 40, "step_size_down": 20,
                                       "scale_fn": "0.5 * (1 + math.cos(x * math.pi / 1200))", "scale_mode": "iterations",
                                       "cycle_momentum": False}, one, momentum=True)
    c("OneCycleLR/cos", {"type": "OneCycleLR", "max_lr": 0.1, "total_steps": N}, two, momentum=True)
    c("OneCycleLR/linear-perGroup", {"type": "OneCycleLR", "max_lr": [0.1, 0.05], "total_steps": N, "anneal_strategy": "linear",
                                     "pct_start": 0.25, "div_factor": 10.0, "final_div_factor": 100.0,
                                     "base_momentum": [0.85, 0.8], "max_momentum": [0.95, 0.92]}, two, momentum=True)
    c("OneCycleLR/three_phase", {"type": "OneCycleLR", "max_lr": 0.3, "epochs": 12, "steps_per_epoch": 100, "three_phase": True}, one, momentum=True)
    c("OneCycleLR/three_phase-linear", {"type": "OneCycleLR", "max_lr": 0.3, "total_steps": 1001, "three_phase": True,
                                        "anneal_strategy": "linear", "pct_start": 0.4}, one, steps=1002, momentum=True)
    c("OneCycleLR/adam-beta1", {"type": "OneCycleLR", "max_lr": [0.01, 0.004], "total_steps": N, "base_momentum": 0.8, "max_momentum": 0.9},
      adam, optimizer="adam", momentum=True)
    c("OneCycleLR/no-momentum", {"type": "OneCycleLR", "max_lr": 0.05, "total_steps": N - 1, "cycle_momentum": False}, one, momentum=True)
    c("OneCycleLR/end-exactly", {"type": "OneCycleLR", "max_lr": 0.05, "total_steps": 999}, one, steps=1000, momentum=True)

    # ReduceLROnPlateau with metric sequences.
    def p(name, spec, groups, metrics):
        c(name, spec, groups, steps=len(metrics) + 1, mode="metrics", metrics=metrics)

    p("ReduceLROnPlateau/min-rel", {"type": "ReduceLROnPlateau", "patience": 5, "factor": 0.5}, two, lcg_metrics(1200, 1))
    p("ReduceLROnPlateau/min-abs-cooldown", {"type": "ReduceLROnPlateau", "patience": 3, "factor": 0.7, "threshold": 0.01,
                                             "threshold_mode": "abs", "cooldown": 4, "min_lr": [0.001, 0.0001]}, two, lcg_metrics(1200, 7))
    p("ReduceLROnPlateau/max-rel", {"type": "ReduceLROnPlateau", "mode": "max", "patience": 2, "factor": 0.8, "threshold": 0.001,
                                    "cooldown": 2}, one, [-x for x in lcg_metrics(1200, 3)])
    p("ReduceLROnPlateau/max-abs-eps", {"type": "ReduceLROnPlateau", "mode": "max", "patience": 0, "factor": 0.9, "threshold": 0.0,
                                        "threshold_mode": "abs", "min_lr": 0.05, "eps": 0.001}, one, [math.sin(i / 5.0) for i in range(1200)])

    # SequentialLR: milestones restart each stage at its own t = 0.
    c("SequentialLR/doc", {"type": "SequentialLR", "schedulers": [{"type": "ConstantLR", "factor": 0.1, "total_iters": 2},
                                                                  {"type": "ExponentialLR", "gamma": 0.9}], "milestones": [2]}, one, steps=60)
    c("SequentialLR/warmup-cosine", {"type": "SequentialLR", "schedulers": [{"type": "LinearLR", "start_factor": 0.01, "total_iters": 100},
                                                                            {"type": "CosineAnnealingLR", "T_max": 1100, "eta_min": 1e-5}],
                                     "milestones": [100]}, two)
    c("SequentialLR/three-stages-multiplicative", {"type": "SequentialLR", "schedulers": [
        {"type": "ExponentialLR", "gamma": 0.99}, {"type": "StepLR", "step_size": 50, "gamma": 0.5},
        {"type": "MultiplicativeLR", "lr_lambda": "0.998"}], "milestones": [200, 600]}, two)
    c("SequentialLR/lambda-cyclic", {"type": "SequentialLR", "schedulers": [
        {"type": "LambdaLR", "lr_lambda": "(epoch + 1) / 50"},
        {"type": "CyclicLR", "base_lr": 0.001, "max_lr": 0.05, "step_size_up": 80}], "milestones": [49]}, one, momentum=True)
    c("SequentialLR/cosine-restarts-poly", {"type": "SequentialLR", "schedulers": [
        {"type": "CosineAnnealingWarmRestarts", "T_0": 30, "T_mult": 2},
        {"type": "CosineAnnealingLR", "T_max": 40, "eta_min": 0.002},
        {"type": "PolynomialLR", "total_iters": 300, "power": 2.0}], "milestones": [210, 500]}, two)

    # ChainedScheduler: PyTorch's recursive forms composed.
    def ch(name, subs, groups=one, **kw):
        c(name, {"type": "ChainedScheduler", "schedulers": subs}, groups, **kw)

    ch("ChainedScheduler/doc", [{"type": "ConstantLR", "factor": 0.1, "total_iters": 2}, {"type": "ExponentialLR", "gamma": 0.9}], steps=60)
    ch("ChainedScheduler/warmup-cosine-periodic", [{"type": "LinearLR", "start_factor": 0.05, "total_iters": 50},
                                                   {"type": "CosineAnnealingLR", "T_max": 200}], two)
    ch("ChainedScheduler/cosine-eta-step", [{"type": "CosineAnnealingLR", "T_max": 90, "eta_min": 0.01},
                                            {"type": "StepLR", "step_size": 100, "gamma": 0.8}], two)
    ch("ChainedScheduler/lambda-then-exp", [{"type": "LambdaLR", "lr_lambda": "1 + 0.5 * math.sin(epoch / 20)"},
                                            {"type": "ExponentialLR", "gamma": 0.99}])
    ch("ChainedScheduler/exp-then-lambda", [{"type": "ExponentialLR", "gamma": 0.99},
                                            {"type": "LambdaLR", "lr_lambda": "1 + 0.5 * math.sin(epoch / 20)"}])
    ch("ChainedScheduler/multistep-poly-mult", [{"type": "MultiStepLR", "milestones": [300, 900], "gamma": 0.3},
                                                {"type": "PolynomialLR", "total_iters": 1000, "power": 0.5},
                                                {"type": "MultiplicativeLR", "lr_lambda": "1.0005"}], two)
    ch("ChainedScheduler/onecycle-constant", [{"type": "OneCycleLR", "max_lr": 0.1, "total_steps": N},
                                              {"type": "ConstantLR", "factor": 0.5, "total_iters": 100}], two, momentum=True)
    ch("ChainedScheduler/cyclic-exp", [{"type": "CyclicLR", "base_lr": 0.001, "max_lr": 0.1, "step_size_up": 100},
                                       {"type": "ExponentialLR", "gamma": 0.998}], one, momentum=True)
    ch("ChainedScheduler/warmrestarts-linear", [{"type": "CosineAnnealingWarmRestarts", "T_0": 100},
                                                {"type": "LinearLR", "start_factor": 0.2, "total_iters": 150}])
    ch("ChainedScheduler/sequential-inside", [{"type": "StepLR", "step_size": 200, "gamma": 0.5},
                                              {"type": "SequentialLR", "schedulers": [{"type": "LinearLR", "start_factor": 0.1, "total_iters": 20},
                                                                                     {"type": "CosineAnnealingLR", "T_max": 500}],
                                               "milestones": [20]}])

    out = [run_torch(x) for x in C]

    # last_epoch resume: groups hold the values at t = last_epoch.
    R = []

    def r(name, spec, last, groups=one, steps=600, **kw):
        d = {"name": name, "spec": spec, "groups": groups, "steps": steps, "mode": "last_epoch", "last_epoch": last}
        d.update(kw)
        R.append(d)

    r("resume/StepLR", {"type": "StepLR", "step_size": 30, "gamma": 0.5}, 59, two)
    r("resume/CosineAnnealingLR", {"type": "CosineAnnealingLR", "T_max": 300, "eta_min": 0.001}, 137, two)
    r("resume/ExponentialLR", {"type": "ExponentialLR", "gamma": 0.99}, 10)
    r("resume/LinearLR", {"type": "LinearLR", "start_factor": 0.1, "total_iters": 100}, 40)
    r("resume/OneCycleLR", {"type": "OneCycleLR", "max_lr": 0.1, "total_steps": 1000}, 333)
    r("resume/CosineAnnealingWarmRestarts", {"type": "CosineAnnealingWarmRestarts", "T_0": 10, "T_mult": 2}, 75)
    r("resume/CyclicLR", {"type": "CyclicLR", "base_lr": 0.001, "max_lr": 0.1, "step_size_up": 100, "cycle_momentum": False}, 250)
    out += [run_resume(x) for x in R]
    return out


# ------------------------------------------------------------------------------- Hugging Face (transcribed)
# Our own transcription of the lambdas in transformers/optimization.py (see the module docstring), run through
# PyTorch's LambdaLR so that "value after k steps" means exactly what it means for PyTorch.

def hf_warm(t, w):
    return float(t) / float(max(1, w))


def hf_linear(w, T):
    def f(t):
        if t < w:
            return hf_warm(t, w)
        return max(0.0, float(T - t) / float(max(1, T - w)))
    return f


def hf_cosine(w, T, cycles=0.5, min_rate=0.0):
    def f(t):
        if t < w:
            return hf_warm(t, w)
        progress = float(t - w) / float(max(1, T - w))
        v = 0.5 * (1.0 + math.cos(math.pi * float(cycles) * 2.0 * progress))
        v = v * (1 - min_rate) + min_rate
        return max(0, v)
    return f


def hf_hard_restarts(w, T, cycles=1):
    def f(t):
        if t < w:
            return hf_warm(t, w)
        progress = float(t - w) / float(max(1, T - w))
        if progress >= 1.0:
            return 0.0
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * ((float(cycles) * progress) % 1.0))))
    return f


def hf_poly(w, T, lr_init, lr_end=1e-7, power=1.0):
    def f(t):
        if t < w:
            return hf_warm(t, w)
        if t > T:
            return lr_end / lr_init
        rng = lr_init - lr_end
        pct = 1 - (t - w) / (T - w)
        return (rng * pct ** power + lr_end) / lr_init
    return f


def hf_constant_warmup(w):
    return lambda t: float(t) / float(max(1.0, w)) if t < w else 1.0


def hf_inverse_sqrt(w, timescale=None):
    if timescale is None:
        timescale = w or 10_000

    def f(t):
        if t < w:
            return hf_warm(t, w)
        shift = timescale - w
        return 1.0 / math.sqrt((t + shift) / timescale)
    return f


def hf_cosine_warmup_min(w, T, cycles=0.5, min_rate=0.0, warmup_rate=None):
    def f(t):
        t, wf, Tf = float(t), float(w), float(T)
        if t < wf:
            if warmup_rate is None:
                return (t + 1.0) / max(1.0, wf)
            return warmup_rate + (1.0 - warmup_rate) * t / max(1, w - 1)
        progress = (t - wf + 1.0) / max(1.0, Tf - wf)
        v = 0.5 * (1.0 + math.cos(math.pi * cycles * 2.0 * progress))
        v = v * (1 - min_rate) + min_rate
        return max(0, v)
    return f


def hf_wsd(w, stable, decay, wtype="linear", dtype="cosine", min_ratio=0.0, cycles=0.5):
    def shape(kind, p, rising):
        if kind == "linear":
            return p if rising else 1.0 - p
        if kind == "cosine":
            return 0.5 * (1.0 - math.cos(math.pi * p)) if rising else 0.5 * (1.0 + math.cos(math.pi * float(cycles) * 2.0 * p))
        return 1.0 - math.sqrt(1.0 - p) if rising else 1.0 - math.sqrt(p)

    def f(t):
        if t < w:
            v = shape(wtype, float(t) / float(max(1, w)), True)
            return max(0.0, v * (1.0 - min_ratio) + min_ratio)
        if t < w + stable:
            return 1.0
        if t < w + stable + decay:
            v = shape(dtype, float(t - w - stable) / float(max(1, decay)), False)
            return max(0.0, v * (1.0 - min_ratio) + min_ratio)
        return min_ratio
    return f


def lambda_case(name, spec, fns, groups, steps, source):
    opt = make_optimizer(groups, "sgd")
    sched = L.LambdaLR(opt, fns)
    out = [list(sched.get_last_lr())]
    for _ in range(steps - 1):
        opt.step()
        sched.step()
        out.append(list(sched.get_last_lr()))
    return {"name": name, "spec": spec, "groups": group_dicts(groups, "sgd"), "steps": steps, "lr": out, "source": source}


def hf_cases():
    src = "transcription of huggingface/transformers src/transformers/optimization.py @ 005edacb6b5dabbf0843e92c6623de9e07ca6241"
    g1 = [{"lr": 5e-5}]
    g2 = [{"lr": 3e-4}, {"lr": 1e-4}]
    N = 1200
    cases = [
        ("linear", {"type": "linear", "num_warmup_steps": 100, "num_training_steps": 1000}, [hf_linear(100, 1000)], g2),
        ("linear/no-warmup", {"type": "linear", "num_warmup_steps": 0, "num_training_steps": 1100}, [hf_linear(0, 1100)], g1),
        ("cosine", {"type": "cosine", "num_warmup_steps": 120, "num_training_steps": 1100}, [hf_cosine(120, 1100)], g2),
        ("cosine/1.5-cycles", {"type": "cosine", "num_warmup_steps": 50, "num_training_steps": 1000, "num_cycles": 1.5},
         [hf_cosine(50, 1000, 1.5)], g1),
        ("cosine_with_restarts", {"type": "cosine_with_restarts", "num_warmup_steps": 100, "num_training_steps": 1100, "num_cycles": 4},
         [hf_hard_restarts(100, 1100, 4)], g2),
        ("polynomial", {"type": "polynomial", "num_warmup_steps": 100, "num_training_steps": 1000, "lr_end": 1e-6, "power": 2.0},
         [hf_poly(100, 1000, 3e-4, 1e-6, 2.0), hf_poly(100, 1000, 1e-4, 1e-6, 2.0)], g2),
        ("polynomial/default", {"type": "polynomial", "num_warmup_steps": 10, "num_training_steps": 1000},
         [hf_poly(10, 1000, 5e-5)], g1),
        ("constant", {"type": "constant"}, [lambda t: 1], g1),
        ("constant_with_warmup", {"type": "constant_with_warmup", "num_warmup_steps": 333}, [hf_constant_warmup(333)], g2),
        ("inverse_sqrt", {"type": "inverse_sqrt", "num_warmup_steps": 100}, [hf_inverse_sqrt(100)], g2),
        ("inverse_sqrt/timescale", {"type": "inverse_sqrt", "num_warmup_steps": 0, "timescale": 50}, [hf_inverse_sqrt(0, 50)], g1),
        ("cosine_with_min_lr/rate", {"type": "cosine_with_min_lr", "num_warmup_steps": 100, "num_training_steps": 1000, "min_lr_rate": 0.1},
         [hf_cosine(100, 1000, 0.5, 0.1)], g2),
        ("cosine_with_min_lr/min_lr", {"type": "cosine_with_min_lr", "num_warmup_steps": 100, "num_training_steps": 1000, "min_lr": 1e-6},
         [hf_cosine(100, 1000, 0.5, 1e-6 / 5e-5)], g1),
        ("cosine_warmup_with_min_lr", {"type": "cosine_warmup_with_min_lr", "num_warmup_steps": 100, "num_training_steps": 1000,
                                       "min_lr_rate": 0.05}, [hf_cosine_warmup_min(100, 1000, 0.5, 0.05)], g2),
        ("cosine_warmup_with_min_lr/warmup_rate", {"type": "cosine_warmup_with_min_lr", "num_warmup_steps": 64, "num_training_steps": 1000,
                                                   "min_lr_rate": 0.0, "warmup_lr_rate": 0.1},
         [hf_cosine_warmup_min(64, 1000, 0.5, 0.0, 0.1)], g1),
        ("warmup_stable_decay/cosine", {"type": "warmup_stable_decay", "num_warmup_steps": 100, "num_decay_steps": 300,
                                        "num_training_steps": 1000}, [hf_wsd(100, 600, 300)], g2),
        ("warmup_stable_decay/1-sqrt", {"type": "warmup_stable_decay", "num_warmup_steps": 100, "num_decay_steps": 200,
                                        "num_stable_steps": 700, "warmup_type": "cosine", "decay_type": "1-sqrt", "min_lr_ratio": 0.1},
         [hf_wsd(100, 700, 200, "cosine", "1-sqrt", 0.1)], g1),
        ("warmup_stable_decay/linear", {"type": "warmup_stable_decay", "num_warmup_steps": 50, "num_decay_steps": 400,
                                        "num_training_steps": 900, "warmup_type": "1-sqrt", "decay_type": "linear", "min_lr_ratio": 0.02},
         [hf_wsd(50, 450, 400, "1-sqrt", "linear", 0.02)], g1),
    ]
    out = []
    for name, spec, fns, groups in cases:
        if len(fns) == 1:
            fns = fns * len(groups)
        out.append(lambda_case("hf/" + name, spec, fns, groups, N, src))
    return out


# ------------------------------------------------------------------------------------------ timm (transcribed)

def timm_noise(t, seed, pct, kind):
    """timm Scheduler._calculate_noise, drawn with PyTorch's own generator."""
    g = torch.Generator()
    g.manual_seed(seed + t)
    if kind == "normal":
        while True:
            n = torch.randn(1, generator=g).item()
            if abs(n) < pct:
                return n
    return 2 * (torch.rand(1, generator=g).item() - 0.5) * pct


def timm_cosine(base_values, t_initial, lr_min=0.0, cycle_mul=1.0, cycle_decay=1.0, cycle_limit=1, warmup_t=0,
                warmup_lr_init=0.0, warmup_prefix=False, k_decay=1.0, noise_range_t=None, noise_pct=0.67,
                noise_type="normal", noise_seed=42):
    warmup_steps = [(v - warmup_lr_init) / warmup_t for v in base_values] if warmup_t else [1 for _ in base_values]

    def values(t):
        if t < warmup_t:
            lrs = [warmup_lr_init + t * s for s in warmup_steps]
        else:
            if warmup_prefix:
                t = t - warmup_t
            if cycle_mul != 1:
                i = math.floor(math.log(1 - t / t_initial * (1 - cycle_mul), cycle_mul))
                t_i = cycle_mul ** i * t_initial
                t_curr = t - (1 - cycle_mul ** i) / (1 - cycle_mul) * t_initial
            else:
                i = t // t_initial
                t_i = t_initial
                t_curr = t - (t_initial * i)
            gamma = cycle_decay ** i
            if i < cycle_limit:
                lrs = [lr_min + 0.5 * (v * gamma - lr_min) * (1 + math.cos(math.pi * t_curr ** k_decay / t_i ** k_decay))
                       for v in base_values]
            else:
                lrs = [lr_min for _ in base_values]
        return lrs

    def with_noise(t):
        lrs = values(t)
        if noise_range_t is not None:
            if isinstance(noise_range_t, (list, tuple)):
                apply = noise_range_t[0] <= t < noise_range_t[1]
            else:
                apply = t >= noise_range_t
            if apply:
                n = timm_noise(t, noise_seed, noise_pct, noise_type)
                lrs = [v + v * n for v in lrs]
        return lrs
    return with_noise


def timm_step(base_values, decay_t, decay_rate, warmup_t=0, warmup_lr_init=0.0, warmup_prefix=False):
    warmup_steps = [(v - warmup_lr_init) / warmup_t for v in base_values] if warmup_t else [1 for _ in base_values]

    def values(t):
        if t < warmup_t:
            return [warmup_lr_init + t * s for s in warmup_steps]
        if warmup_prefix:
            t = t - warmup_t
        return [v * (decay_rate ** (t // decay_t)) for v in base_values]
    return values


def timm_cases():
    src = "transcription of huggingface/pytorch-image-models timm/scheduler @ aa4b5850"
    N = 1200
    g1 = [{"lr": 0.1}]
    g2 = [{"lr": 0.1}, {"lr": 0.03}]
    specs = [
        ("cosine/warmup", {"type": "CosineAnnealingLR", "T_max": 1000, "eta_min": 1e-5, "warmup_t": 50, "warmup_lr_init": 1e-4,
                           "cycle_limit": 1},
         dict(t_initial=1000, lr_min=1e-5, warmup_t=50, warmup_lr_init=1e-4), g2),
        ("cosine/warmup-prefix-limit", {"type": "CosineAnnealingLR", "T_max": 300, "eta_min": 1e-4, "warmup_t": 20, "warmup_lr_init": 1e-3,
                                        "warmup_prefix": True, "cycle_limit": 2},
         dict(t_initial=300, lr_min=1e-4, warmup_t=20, warmup_lr_init=1e-3, warmup_prefix=True, cycle_limit=2), g2),
        ("cosine/cycles-decay", {"type": "CosineAnnealingLR", "T_max": 200, "cycle_decay": 0.5, "cycle_limit": 4},
         dict(t_initial=200, cycle_decay=0.5, cycle_limit=4), g1),
        ("cosine/cycle_mul", {"type": "CosineAnnealingLR", "T_max": 100, "eta_min": 1e-3, "cycle_mul": 2.0, "cycle_decay": 0.7, "cycle_limit": 5},
         dict(t_initial=100, lr_min=1e-3, cycle_mul=2.0, cycle_decay=0.7, cycle_limit=5), g2),
        ("cosine/cycle_mul-1.5-kdecay", {"type": "CosineAnnealingLR", "T_max": 80, "cycle_mul": 1.5, "cycle_limit": 8, "k_decay": 1.5,
                                         "warmup_t": 10, "warmup_lr_init": 0.001},
         dict(t_initial=80, cycle_mul=1.5, cycle_limit=8, k_decay=1.5, warmup_t=10, warmup_lr_init=0.001), g1),
        ("cosine/kdecay-0.5", {"type": "CosineAnnealingLR", "T_max": 900, "eta_min": 1e-5, "k_decay": 0.5},
         dict(t_initial=900, lr_min=1e-5, k_decay=0.5), g1),
        ("cosine/noise-normal", {"type": "CosineAnnealingLR", "T_max": 1000, "noise_range_t": 100, "noise_pct": 0.3, "noise_seed": 7,
                                 "cycle_limit": 1},
         dict(t_initial=1000, noise_range_t=100, noise_pct=0.3, noise_seed=7), g2),
        ("cosine/noise-normal-range", {"type": "CosineAnnealingLR", "T_max": 1000, "noise_range_t": [200, 800], "noise_pct": 0.67,
                                       "cycle_limit": 1},
         dict(t_initial=1000, noise_range_t=[200, 800], noise_pct=0.67), g1),
        ("cosine/noise-uniform", {"type": "CosineAnnealingLR", "T_max": 500, "noise_range_t": 0, "noise_pct": 0.1, "noise_type": "uniform",
                                  "noise_seed": 123, "cycle_limit": 3},
         dict(t_initial=500, noise_range_t=0, noise_pct=0.1, noise_type="uniform", noise_seed=123, cycle_limit=3), g1),
    ]
    out = []
    for name, spec, kw, groups in specs:
        f = timm_cosine([g["lr"] for g in groups], **kw)
        out.append({"name": "timm/" + name, "spec": spec, "groups": group_dicts(groups, "sgd"), "steps": N,
                    "lr": [f(t) for t in range(N)], "source": src})
    for name, spec, kw, groups in [
        ("step/warmup", {"type": "StepLR", "step_size": 30, "gamma": 0.5, "warmup_t": 25, "warmup_lr_init": 1e-4},
         dict(decay_t=30, decay_rate=0.5, warmup_t=25, warmup_lr_init=1e-4), g2),
        ("step/warmup-prefix", {"type": "StepLR", "step_size": 100, "gamma": 0.3, "warmup_t": 40, "warmup_lr_init": 0.0, "warmup_prefix": True},
         dict(decay_t=100, decay_rate=0.3, warmup_t=40, warmup_prefix=True), g1),
    ]:
        f = timm_step([g["lr"] for g in groups], **kw)
        out.append({"name": "timm/" + name, "spec": spec, "groups": group_dicts(groups, "sgd"), "steps": N,
                    "lr": [f(t) for t in range(N)], "source": src})

    # PlateauLRScheduler: warmup for epoch <= warmup_t, then torch's ReduceLROnPlateau on the group lr.
    for name, spec, kw, groups, metrics in [
        ("plateau/warmup", {"type": "ReduceLROnPlateau", "mode": "min", "factor": 0.5, "patience": 4, "warmup_t": 30, "warmup_lr_init": 1e-4},
         dict(decay_rate=0.5, patience_t=4, mode="min", warmup_t=30, warmup_lr_init=1e-4), g2, lcg_metrics(1199, 11)),
        ("plateau/warmup-max-cooldown", {"type": "ReduceLROnPlateau", "mode": "max", "factor": 0.3, "patience": 2, "cooldown": 3,
                                         "threshold": 1e-3, "min_lr": 1e-4, "warmup_t": 10, "warmup_lr_init": 0.0},
         dict(decay_rate=0.3, patience_t=2, mode="max", cooldown_t=3, threshold=1e-3, lr_min=1e-4, warmup_t=10, warmup_lr_init=0.0),
         g1, [-x for x in lcg_metrics(1199, 5)]),
    ]:
        lrs = timm_plateau(groups, metrics, **kw)
        out.append({"name": "timm/" + name, "spec": spec, "groups": group_dicts(groups, "sgd"), "steps": len(metrics) + 1,
                    "mode": "metrics", "metrics": metrics, "lr": lrs, "source": src})
    return out


def timm_plateau(groups, metrics, decay_rate=0.1, patience_t=10, threshold=1e-4, cooldown_t=0, warmup_t=0,
                 warmup_lr_init=0.0, lr_min=0.0, mode="max"):
    opt = make_optimizer(groups, "sgd")
    base = [g["lr"] for g in opt.param_groups]
    plateau = L.ReduceLROnPlateau(opt, patience=patience_t, factor=decay_rate, threshold=threshold, cooldown=cooldown_t,
                                  mode=mode, min_lr=lr_min)
    steps = [(v - warmup_lr_init) / warmup_t for v in base] if warmup_t else [1 for _ in base]
    if warmup_t:
        for g in opt.param_groups:
            g["lr"] = warmup_lr_init
    out = [lrs(opt)]
    for epoch, m in enumerate(metrics, start=1):
        if epoch <= warmup_t:
            for g, s in zip(opt.param_groups, steps):
                g["lr"] = warmup_lr_init + epoch * s
        else:
            plateau.step(m, epoch)
        out.append(lrs(opt))
    return out


# --------------------------------------------------------------------------------------- classic (transcribed)

def classic_cases():
    N = 1200
    out = []

    def add(name, spec, groups, fns, source):
        out.append(lambda_case("classic/" + name, spec, fns * (len(groups) if len(fns) == 1 else 1), groups, N, source))

    def noam(model_size, factor, warmup):
        def rate(step):
            if step == 0:
                step = 1
            return factor * (model_size ** (-0.5) * min(step ** (-0.5), step * warmup ** (-1.5)))
        return rate

    at = "transcription of harvardnlp/annotated-transformer the_annotated_transformer.py rate() @ 0a91a254735c07532e23733dce8a693e504f3a08"
    add("noam/512", {"type": "noam", "model_size": 512, "warmup": 400, "factor": 1.0}, [{"lr": 1.0}], [noam(512, 1.0, 400)], at)
    add("noam/scaled", {"type": "noam", "model_size": 256, "warmup": 300, "factor": 2.0}, [{"lr": 1.0}, {"lr": 0.5}], [noam(256, 2.0, 300)], at)

    def warmup_linear(t_total, warmup):
        def f(step):
            x = step / t_total
            if x < warmup:
                return x / warmup
            return 1.0 - x
        return f

    bert = "transcription of huggingface/transformers pytorch_pretrained_bert/optimization.py warmup_linear @ 1de35b624b9d7998feb4d518e4f7e8e53abac4e1"
    add("bert/warmup_linear", {"type": "warmup_linear", "t_total": 1200, "warmup": 0.1}, [{"lr": 5e-5}], [warmup_linear(1200, 0.1)], bert)
    add("bert/warmup_linear-default", {"type": "warmup_linear", "t_total": 1000}, [{"lr": 3e-5}], [warmup_linear(1000, 0.002)], bert)

    def tv_warmup(warmup_iters, warmup_factor):
        def f(x):
            if x >= warmup_iters:
                return 1
            alpha = float(x) / warmup_iters
            return warmup_factor * (1 - alpha) + alpha
        return f

    tv = "transcription of pytorch/vision references/detection/utils.py warmup_lr_scheduler @ 227111b6dfb0bdaa20f208823fa84becdb1fd76e"
    add("torchvision/detection-warmup", {"type": "constant", "warmup_iters": 999, "warmup_factor": 0.001}, [{"lr": 0.02}],
        [tv_warmup(999, 0.001)], tv)

    def d2_factor(method, it, warmup_iters, warmup_factor):
        if it >= warmup_iters:
            return 1.0
        if method == "constant":
            return warmup_factor
        alpha = it / warmup_iters
        return warmup_factor * (1 - alpha) + alpha

    def d2_multistep(method, warmup_iters, warmup_factor, milestones, gamma):
        import bisect
        return lambda it: d2_factor(method, it, warmup_iters, warmup_factor) * gamma ** bisect.bisect_right(milestones, it)

    d2 = "transcription of facebookresearch/detectron2 detectron2/solver/lr_scheduler.py WarmupMultiStepLR/_get_warmup_factor_at_iter @ 606437e6008b3e91acfff572061dbd1d71110087"
    add("detectron2/multistep-linear", {"type": "MultiStepLR", "milestones": [600, 900], "gamma": 0.1, "warmup_iters": 200,
                                        "warmup_factor": 0.001, "warmup_method": "linear"}, [{"lr": 0.02}, {"lr": 0.01}],
        [d2_multistep("linear", 200, 0.001, [600, 900], 0.1)], d2)
    add("detectron2/multistep-constant", {"type": "MultiStepLR", "milestones": [500], "gamma": 0.5, "warmup_iters": 100,
                                          "warmup_factor": 0.1, "warmup_method": "constant"}, [{"lr": 0.02}],
        [d2_multistep("constant", 100, 0.1, [500], 0.5)], d2)

    def goyal(k, warmup):
        # "we start from a learning rate of eta and increment it by a constant amount at each iteration such that it
        # reaches eta_hat = k * eta after 5 epochs"; the base lr is the target eta_hat.
        def f(t):
            if t >= warmup:
                return 1.0
            return 1.0 / k + (1.0 - 1.0 / k) * t / warmup
        return f

    add("goyal/gradual-warmup", {"type": "constant", "warmup_iters": 500, "warmup_factor": 0.125}, [{"lr": 0.8}],
        [goyal(8, 500)], "Goyal et al. 2017, Accurate, Large Minibatch SGD, section 2.2 (gradual warmup), transcribed")
    return out


def rng_cases():
    out = []
    for seed in list(range(0, 40)) + [42, 1234, 2 ** 31 - 1, 2 ** 32 + 5, 10 ** 12 + 7]:
        g = torch.Generator()
        g.manual_seed(seed)
        normals = [torch.randn(1, generator=g).item() for _ in range(5)]
        g.manual_seed(seed)
        uniforms = [torch.rand(1, generator=g).item() for _ in range(3)]
        out.append({"seed": seed, "randn": normals, "rand": uniforms})
    return out


if __name__ == "__main__":
    write("torch.json", torch_cases())
    write("hf.json", hf_cases())
    write("timm.json", timm_cases())
    write("classic.json", classic_cases())
    write("rng.json", rng_cases())
