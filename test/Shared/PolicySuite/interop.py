"""The policy suite's PyTorch side of the checkpoint tests (test/Shared/PolicySuite/CheckpointTests.cs), one run:

  interop.py CHECKPOINT WEIGHTS STATE_DICT_OUT RESULT_JSON

1. torch.load's the trainer's CHECKPOINT (with weights_only=True where torch has it: only plain containers, numbers,
   strings and tensors are in it), loads its "model" into the same network built with torch.nn (strictly) and its
   "optimizer" into torch.optim.AdamW, takes one AdamW step from it, and reports what it read (model, optimizer state,
   the EMA section) for the C# side to compare bit for bit;
2. torch.load's WEIGHTS (ModelState.Save: a plain state_dict) into a fresh network the same way;
3. writes a seeded network's torch.save(state_dict) to STATE_DICT_OUT, with an input batch and its eval-mode output, for
   ModelState.Load on the engine under test.
"""
import json
import sys

import torch
import torch.nn as nn


SAFE_LOADS = []


def load(path):
    """torch.load with the safe unpickler (torch 2.6's default). Torch 1.13's first version of it lacks pickle's float
    opcode, so there (only) the file is loaded with the full unpickler, and the result says which one read it."""
    try:
        value = torch.load(path, weights_only=True)
        SAFE_LOADS.append(True)
        return value
    except Exception:  # noqa: BLE001 - 1.13's pickle.UnpicklingError
        if int(torch.__version__.split(".")[0]) >= 2:
            raise
        SAFE_LOADS.append(False)
        return torch.load(path)


def network():
    return nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Dropout(0.2), nn.Linear(16, 3))


def flat(t):
    return t.detach().reshape(-1).tolist()


def main(checkpoint, weights, state_dict_out, result_json):
    res = {"torch_version": torch.__version__}
    ck = load(checkpoint)
    res["format"] = ck["format"]
    res["keys"] = sorted(ck.keys())
    m = network()
    m.load_state_dict(ck["model"])  # strict: every name and shape
    res["model"] = {k: flat(v) for k, v in ck["model"].items()}
    res["model_order"] = list(ck["model"].keys())
    opt = torch.optim.AdamW(m.parameters(), lr=0.01, weight_decay=0.05)
    opt.load_state_dict(ck["optimizer"])
    res["optimizer_state"] = {str(i): {k: (flat(v) if torch.is_tensor(v) else v) for k, v in s.items()}
                              for i, s in opt.state_dict()["state"].items()}
    m.train()
    torch.manual_seed(1)
    m(torch.randn(4, 8)).pow(2).mean().backward()
    opt.step()
    res["stepped"] = all(torch.isfinite(p).all().item() for p in m.parameters())
    res["policies"] = sorted(ck["policies"].keys())
    res["ema"] = {k: flat(v) for k, v in ck["policies"]["ema"]["state"].items()}
    res["ema_update_count"] = ck["policies"]["ema"]["update_count"]

    w = load(weights)
    plain = network()
    plain.load_state_dict(w)
    res["weights"] = {k: flat(v) for k, v in w.items()}
    res["weights_only"] = SAFE_LOADS

    torch.manual_seed(0)
    src = network().eval()
    torch.save(src.state_dict(), state_dict_out)
    x = torch.randn(5, 8)
    with torch.no_grad():
        y = src(x)
    res["torch_save"] = {"state": {k: flat(v) for k, v in src.state_dict().items()}, "x": flat(x), "y": flat(y)}
    with open(result_json, "w") as f:
        json.dump(res, f)


if __name__ == "__main__":
    main(*sys.argv[1:5])
