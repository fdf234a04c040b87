#!/usr/bin/python3
"""Golden data for the engines' module builders (IModuleBuilder over src/Backend/Modules/ModuleSpec.cs): for a few
networks written exactly as ModuleSpec.ToPyTorch() prints them, PyTorch's state_dict right after
``torch.manual_seed(seed); net = eval(expression)`` (names, shapes, dtypes and every value, float32 exactly), and the
eval-mode output for a recorded input.

Run:  python3 tools/golden/module_specs.py [--out DIR]
Writes tools/golden/data/torch-X.Y/modules/module_specs.json. test/MLLrSched.TorchSharp.Tests/ModuleBuilderTests.cs
builds the same specs with the same seeds and compares.
"""
import json
import math
import os

import torch
import torch.nn as nn

from goldenlib import meta, out_dir

OUT = out_dir("modules")

DTYPES = {torch.float32: "float32", torch.float64: "float64", torch.int64: "int64"}

# name, seed, expression (ModuleSpec.ToPyTorch()'s text), input shape without the batch dimension
CASES = [
    ("mlp", 11, """nn.Sequential(
    nn.Linear(20, 16),
    nn.BatchNorm1d(16),
    nn.ReLU(),
    nn.Dropout(0.2),
    nn.Linear(16, 8),
    nn.GELU(),
    nn.LayerNorm(8),
    nn.Linear(8, 3),
)""", [20]),
    ("cnn", 21, """nn.Sequential(
    nn.Unflatten(1, (1, 12, 12)),
    nn.Conv2d(1, 4, 3, padding=1),
    nn.BatchNorm2d(4),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Conv2d(4, 8, 3, bias=False),
    nn.SiLU(),
    nn.Flatten(),
    nn.Linear(128, 10),
)""", [144]),
    ("activations", 5, """nn.Sequential(
    nn.Linear(6, 6),
    nn.Tanh(),
    nn.Linear(6, 6, bias=False),
    nn.Sigmoid(),
    nn.LeakyReLU(),
    nn.ELU(),
    nn.Linear(6, 2),
)""", [6]),
]


def enc(t):
    t = t.detach().contiguous()
    data = t.reshape(-1).tolist()
    if t.dtype in (torch.float32, torch.float64):
        data = [float(x) if math.isfinite(x) else str(x) for x in data]
    return {"shape": list(t.shape), "dtype": DTYPES[t.dtype], "data": data}


def main():
    cases = []
    for name, seed, expression, input_shape in CASES:
        torch.manual_seed(seed)
        net = eval(expression, {"nn": nn})
        state = [{"name": k, "tensor": enc(v)} for k, v in net.state_dict().items()]
        g = torch.Generator().manual_seed(1000 + seed)
        x = torch.randn(4, *input_shape, generator=g)
        net.eval()
        with torch.no_grad():
            y = net(x)
        cases.append({"name": name, "seed": seed, "pytorch": expression, "state": state, "input": enc(x), "output_eval": enc(y)})
    path = os.path.join(OUT, "module_specs.json")
    with open(path, "w") as f:
        json.dump({"meta": meta("tools/golden/module_specs.py"), "cases": cases}, f, indent=1)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
