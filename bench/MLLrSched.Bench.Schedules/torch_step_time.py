#!/usr/bin/python3
"""Times PyTorch's scheduler.step() for the schedules the C# benchmark runs (called by Program.cs).

stdin: JSON {"repo": <repo root>, "steps": N, "repeats": R, "cases": [{"name", "peer": {"torch": spec} | {"timm_cosine": kwargs}}]}
stdout: JSON {name: median ns per step}. Torch specs use PyTorch's names; the Hugging Face and Noam schedules run as
PyTorch LambdaLR with the transcribed lambdas from tools/golden/schedules.py (what transformers itself returns).
timm_cosine times the transcription of timm's per-step work (CosineLRScheduler._get_lr, _add_noise with a fresh
torch.Generator, writing the group lr), as timm is not installed here.
"""
import json
import sys
import time
import warnings

warnings.filterwarnings("ignore")
req = json.load(sys.stdin)
sys.path.insert(0, req["repo"] + "/tools/golden")
import schedules as G  # noqa: E402
import torch  # noqa: E402
from torch.optim import lr_scheduler as L  # noqa: E402

torch.set_num_threads(1)
HF = {
    "linear": lambda s: G.hf_linear(s["num_warmup_steps"], s["num_training_steps"]),
    "cosine": lambda s: G.hf_cosine(s["num_warmup_steps"], s["num_training_steps"]),
    "warmup_stable_decay": lambda s: G.hf_wsd(s["num_warmup_steps"], s["num_training_steps"] - s["num_warmup_steps"] - s["num_decay_steps"],
                                              s["num_decay_steps"], dtype=s.get("decay_type", "cosine")),
    "noam": lambda s: (lambda m, w: (lambda t: (1 if t == 0 else t) ** -0.5 * 0 + m ** -0.5 * min(max(t, 1) ** -0.5, max(t, 1) * w ** -1.5)))(s["model_size"], s["warmup"]),
}


def build(spec, opt):
    if spec["type"] in HF:
        return L.LambdaLR(opt, HF[spec["type"]](spec))
    return G.build(spec, opt)


out = {}
def time_timm(kw, n, repeats):
    times = []
    for _ in range(repeats):
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
        f = G.timm_cosine([0.1], **kw)
        t0 = time.perf_counter_ns()
        for t in range(n):
            for g, v in zip(opt.param_groups, f(t)):
                g["lr"] = v
        times.append((time.perf_counter_ns() - t0) / n)
    times.sort()
    return times[len(times) // 2]


for case in req["cases"]:
    peer = case["peer"]
    if peer is None:
        continue
    if "timm_cosine" in peer:
        out[case["name"]] = time_timm(peer["timm_cosine"], req["steps"], req["repeats"])
        continue
    spec = peer["torch"]
    times = []
    for _ in range(req["repeats"]):
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
        sched = build(spec, opt)
        opt.step()
        metric = spec["type"] == "ReduceLROnPlateau"
        n = req["steps"]
        t0 = time.perf_counter_ns()
        if metric:
            for i in range(n):
                sched.step(1.0 / (1 + i % 50))
        else:
            for _ in range(n):
                sched.step()
        times.append((time.perf_counter_ns() - t0) / n)
    times.sort()
    out[case["name"]] = times[len(times) // 2]
json.dump(out, sys.stdout)
