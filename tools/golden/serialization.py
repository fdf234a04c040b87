#!/usr/bin/python3
"""Golden data for MLLrSched.Torch.Serialization (PyTorch's own file format, both directions).

Run with the Debian interpreter that has torch (the python3 first on PATH has none):

  /usr/bin/python3 tools/golden/serialization.py            # writes the fixtures
  /usr/bin/python3 tools/golden/serialization.py verify FILE EXPECTATIONS.json [FILE EXPECTATIONS.json ...]

generate: torch.save()s small files into tools/golden/data/serialization/<name>.pt, each with
  <name>.json beside it describing what torch.load returns (the C# tests load the .pt files and
  compare), plus files that must be rejected (a pickled nn.Module, the legacy pre-1.6 format, ...),
  and manifest.json recording the torch version.

verify: torch.load()s files written by C# and compares them with the expectations (same JSON
  encoding as the fixtures), after checking the pickle names only weights_only-safe globals and the
  zip container is laid out as PyTorch's writer lays it out (stored records, data 64-byte aligned).
  Prints "OK <file>" or the first mismatch per file; the exit code is 0 only when every file matched.

JSON encoding of a value (shared by both directions):
  None/bool/str -> null/true/false/"..."; int -> JSON integer; float -> {"float": x} (x may be
  "nan", "inf", "-inf"); list -> [...]; tuple -> {"tuple": [...]};
  dict -> {"dict": [[key, value], ...], "ordered": true|false} (keys encoded the same way; "ordered"
  is informational: collections.OrderedDict vs dict);
  tensor -> {"tensor": {"dtype": "float32", "shape": [...], "strides": [...], "storage_offset": n,
             "requires_grad": false, "values": [...row-major, floats as numbers or "nan"/"inf"/"-inf",
             -0.0 as "-0"...]}}
An expectations file is {"value": <encoded value>, "shared": [[path, path, ...], ...]} plus optional
"load_into": <model name in MODELS> and "weights_only": true (load with torch.load(weights_only=True)).
Each "shared" list names tensors (by their path of keys/indices from the root) that must share one
storage; "load_into" loads the file into that nn.Module with load_state_dict (strict) and runs a
forward pass. Every verified file must also name only globals that torch.load(weights_only=True),
the default since PyTorch 2.6, accepts.
"""
import collections
import json
import math
import os
import pickletools
import re
import struct
import sys
import zipfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
from goldenlib import meta, out_dir, torch_package

OUT = out_dir("serialization")

DTYPE_NAMES = {
    torch.float32: "float32", torch.float64: "float64", torch.float16: "float16",
    torch.bfloat16: "bfloat16", torch.int64: "int64", torch.int32: "int32", torch.int16: "int16",
    torch.int8: "int8", torch.uint8: "uint8", torch.bool: "bool",
}


# ---------------------------------------------------------------------------------------- encoding

def encode_float(x):
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0 and math.copysign(1.0, x) < 0:
        return "-0"
    return x


def encode_tensor(t):
    requires_grad = bool(t.requires_grad)
    t = t.detach()
    if t.dtype not in DTYPE_NAMES:
        raise TypeError(f"no JSON encoding for dtype {t.dtype}")
    flat = t.reshape(-1)
    if t.dtype == torch.bool:
        values = [bool(v) for v in flat.tolist()]
    elif t.dtype.is_floating_point:
        values = [encode_float(v) for v in flat.double().tolist()]
    else:
        values = [int(v) for v in flat.tolist()]
    return {"tensor": {
        "dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape), "strides": list(t.stride()),
        "storage_offset": t.storage_offset(), "requires_grad": requires_grad, "values": values,
    }}


def encode(v):
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return {"float": encode_float(v)}
    if isinstance(v, torch.Tensor):
        return encode_tensor(v)
    if isinstance(v, list):
        return [encode(x) for x in v]
    if isinstance(v, tuple):
        return {"tuple": [encode(x) for x in v]}
    if isinstance(v, dict):
        return {"dict": [[encode(k), encode(x)] for k, x in v.items()],
                "ordered": isinstance(v, collections.OrderedDict)}
    raise TypeError(f"no JSON encoding for {type(v).__name__}")


def lookup(root, path):
    v = root
    for key in path:
        v = v[key]
    return v


def storage_ptr(t):
    return t.storage().data_ptr()


def shared_groups(root, paths_by_group):
    """Checks the grouping really holds in the Python object (so the fixture JSON cannot lie)."""
    for group in paths_by_group:
        ptrs = {storage_ptr(lookup(root, p)) for p in group}
        assert len(ptrs) == 1, f"{group} do not share storage"
    return paths_by_group


# ---------------------------------------------------------------------------------------- fixtures

def fixture_sequential():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    return model.state_dict(), []


def fixture_batchnorm():
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    model.train()
    for _ in range(3):
        model(torch.randn(5, 3))  # non-trivial running stats, num_batches_tracked = 3
    return model.state_dict(), []


def fixture_dtypes():
    torch.manual_seed(2)
    floats = [0.5, -1.25, 3.0, float("inf"), float("-inf"), float("nan"), -0.0, 1e-3]
    d = collections.OrderedDict()
    d["float32"] = torch.tensor(floats, dtype=torch.float32)
    d["float64"] = torch.tensor(floats + [1.0000000000000002], dtype=torch.float64)
    d["float16"] = torch.tensor(floats + [65504.0, 6e-8], dtype=torch.float16)
    d["bfloat16"] = torch.tensor(floats + [3.0e38], dtype=torch.bfloat16)
    d["int64"] = torch.tensor([0, 1, -1, 2**62, -2**63, 2**63 - 1], dtype=torch.int64)
    d["int32"] = torch.tensor([0, 7, -2**31, 2**31 - 1], dtype=torch.int32).reshape(2, 2)
    d["int16"] = torch.tensor([-32768, 32767, 5], dtype=torch.int16)
    d["int8"] = torch.tensor([-128, 127, 0, -1], dtype=torch.int8)
    d["uint8"] = torch.tensor([0, 255, 128], dtype=torch.uint8)
    d["bool"] = torch.tensor([[True, False, True], [False, False, True]])
    return d, []


def fixture_strided():
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    d = collections.OrderedDict()
    d["transposed"] = base.t()                      # strides (1, 6)
    d["every_other_column"] = base[:, 1::2]         # offset 1, strides (6, 2)
    d["expanded"] = torch.tensor([1.0, 2.0]).reshape(2, 1).expand(2, 3)  # a zero stride
    return d, shared_groups(d, [[["transposed"], ["every_other_column"]]])


def fixture_shared():
    torch.manual_seed(3)
    w = torch.randn(3, 4)
    d = collections.OrderedDict()
    d["encoder.weight"] = w
    d["decoder.weight"] = w          # tied weights: the same tensor twice
    d["row1"] = w[1]                 # a view into the same storage, offset 4
    d["other"] = torch.randn(2)
    return d, shared_groups(d, [[["encoder.weight"], ["decoder.weight"], ["row1"]]])


def fixture_scalars():
    d = collections.OrderedDict()
    d["float0d"] = torch.tensor(3.5)
    d["int0d"] = torch.tensor(-42, dtype=torch.int64)
    d["bool0d"] = torch.tensor(True)
    return d, []


def fixture_empty():
    d = collections.OrderedDict()
    d["empty1d"] = torch.zeros(0)
    d["empty3d"] = torch.zeros(2, 0, 3, dtype=torch.int64)
    return d, []


def fixture_nested():
    torch.manual_seed(4)
    t = torch.randn(2, 2)
    d = {
        "epoch": 7,
        "lr": 0.001,
        "name": "run-1 héllo ✓",
        "flags": [True, False, None],
        "shape": (2, 3),
        "empty_tuple": (),
        "history": [1.5, -2.5, 1e300],
        "big": 2**40,
        "huge": 2**63 - 1,
        "negative": -5,
        "int_keys": {0: "zero", 1: "one", -3: "minus three"},
        "nested": {"inner": {"t": t, "list": [t[0], "x", (1, 2.0, "three")]}},
        "json": json.dumps({"model": "mlp", "layers": [4, 3, 2]}),
    }
    return d, shared_groups(d, [[["nested", "inner", "t"], ["nested", "inner", "list", 0]]])


def fixture_adam():
    # A real optimizer state_dict: int keys, a tuple (betas), None (foreach), tensors.
    torch.manual_seed(5)
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(2):
        opt.zero_grad()
        model(torch.randn(4, 3)).pow(2).sum().backward()
        opt.step()
    return opt.state_dict(), []


def fixture_parameters():
    # state_dict(keep_vars=True) pickles nn.Parameter objects (torch._utils._rebuild_parameter).
    torch.manual_seed(6)
    model = torch.nn.Linear(2, 2)
    return model.state_dict(keep_vars=True), []


FIXTURES = {
    "sequential": fixture_sequential,
    "batchnorm": fixture_batchnorm,
    "dtypes": fixture_dtypes,
    "strided": fixture_strided,
    "shared": fixture_shared,
    "scalars": fixture_scalars,
    "empty": fixture_empty,
    "nested": fixture_nested,
    "adam": fixture_adam,
    "parameters": fixture_parameters,
}


class TinyNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(2, 1)


def write_unsupported():
    """Files the C# reader must reject with a clear message (the message is checked in C#)."""
    torch.manual_seed(7)
    module = torch.nn.Sequential(torch.nn.Linear(2, 1))
    torch.save(module, os.path.join(OUT, "unsupported_module.pt"))
    torch.save(module.state_dict(), os.path.join(OUT, "unsupported_legacy.pt"),
               _use_new_zipfile_serialization=False)
    torch.save({"z": torch.tensor([1 + 2j, 3 - 4j], dtype=torch.complex64)},
               os.path.join(OUT, "unsupported_complex.pt"))
    torch.save({"when": torch.float32}, os.path.join(OUT, "unsupported_dtype_object.pt"))
    torch.jit.save(torch.jit.script(TinyNet().fc), os.path.join(OUT, "unsupported_torchscript.pt"))
    return {
        "unsupported_module.pt": "torch.nn.modules.container.Sequential",
        "unsupported_legacy.pt": "legacy",
        "unsupported_complex.pt": "ComplexFloatStorage",
        "unsupported_dtype_object.pt": "torch.float32",
        "unsupported_torchscript.pt": "TorchScript",
    }


def generate():
    os.makedirs(OUT, exist_ok=True)
    for name, make in FIXTURES.items():
        value, shared = make()
        path = os.path.join(OUT, f"{name}.pt")
        torch.save(value, path)
        loaded = torch.load(path)  # describe what torch.load returns, not what went in
        expected = {"value": encode(loaded), "shared": shared}
        with open(os.path.join(OUT, f"{name}.json"), "w") as f:
            json.dump(expected, f, indent=1, allow_nan=False)
            f.write("\n")
    rejected = write_unsupported()
    manifest = {
        "torch_version": torch.__version__,
        "torch_package": torch_package(),
        "python": sys.version.split()[0],
        "fixtures": sorted(FIXTURES),
        "unsupported": rejected,
    }
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    sizes = {n: os.path.getsize(os.path.join(OUT, n)) for n in sorted(os.listdir(OUT)) if n.endswith(".pt")}
    print(f"wrote {len(sizes)} files to {OUT} (torch {torch.__version__}):")
    for n, s in sizes.items():
        print(f"  {n}: {s} bytes")


# ---------------------------------------------------------------------------------------- verify

class Mismatch(Exception):
    pass


def show(path):
    return "root" + "".join(f"[{k!r}]" for k in path)


def same_float(expected, actual):
    return encode_float(actual) == expected


def check_tensor(spec, actual, path):
    if not isinstance(actual, torch.Tensor):
        raise Mismatch(f"{show(path)}: expected a tensor, found {type(actual).__name__}")
    checks = [
        ("dtype", DTYPE_NAMES.get(actual.dtype, str(actual.dtype))),
        ("shape", list(actual.shape)),
        ("strides", list(actual.stride())),
        ("storage_offset", actual.storage_offset()),
        ("requires_grad", bool(actual.requires_grad)),
    ]
    for key, got in checks:
        if key in spec and spec[key] != got:
            raise Mismatch(f"{show(path)}: {key} expected {spec[key]}, found {got}")
    if actual.device.type != "cpu":
        raise Mismatch(f"{show(path)}: expected a CPU tensor, found device {actual.device}")
    got = encode_tensor(actual)["tensor"]["values"]
    want = spec["values"]
    if len(got) != len(want):
        raise Mismatch(f"{show(path)}: expected {len(want)} values, found {len(got)}")
    floating = actual.dtype.is_floating_point
    for i, (w, g) in enumerate(zip(want, got)):
        # Floats are compared after the same encoding ("nan", "-0", ...), so equal means bit-equal
        # up to NaN payloads; integers and bools must also match in JSON type.
        if w != g or (not floating and type(w) is not type(g)):
            raise Mismatch(f"{show(path)}: value {i} expected {w!r}, found {g!r}")


def check(expected, actual, path):
    if expected is None or isinstance(expected, (bool, str)):
        if type(actual) is not type(expected) or actual != expected:
            raise Mismatch(f"{show(path)}: expected {expected!r}, found {actual!r} ({type(actual).__name__})")
        return
    if isinstance(expected, int):
        if type(actual) is not int or actual != expected:
            raise Mismatch(f"{show(path)}: expected int {expected}, found {actual!r} ({type(actual).__name__})")
        return
    if isinstance(expected, list):
        if type(actual) is not list:
            raise Mismatch(f"{show(path)}: expected a list, found {type(actual).__name__}")
        if len(actual) != len(expected):
            raise Mismatch(f"{show(path)}: expected {len(expected)} items, found {len(actual)}")
        for i, (e, a) in enumerate(zip(expected, actual)):
            check(e, a, path + [i])
        return
    if "float" in expected:
        if type(actual) is not float or not same_float(expected["float"], actual):
            raise Mismatch(f"{show(path)}: expected float {expected['float']}, found {actual!r}")
        return
    if "tuple" in expected:
        if type(actual) is not tuple:
            raise Mismatch(f"{show(path)}: expected a tuple, found {type(actual).__name__}")
        if len(actual) != len(expected["tuple"]):
            raise Mismatch(f"{show(path)}: expected {len(expected['tuple'])} items, found {len(actual)}")
        for i, (e, a) in enumerate(zip(expected["tuple"], actual)):
            check(e, a, path + [i])
        return
    if "dict" in expected:
        if not isinstance(actual, dict):
            raise Mismatch(f"{show(path)}: expected a dict, found {type(actual).__name__}")
        want_keys = [k for k, _ in expected["dict"]]
        got_keys = list(actual.keys())
        if want_keys != got_keys:
            raise Mismatch(f"{show(path)}: expected keys {want_keys} in that order, found {got_keys}")
        for k, e in expected["dict"]:
            check(e, actual[k], path + [k])
        return
    if "tensor" in expected:
        check_tensor(expected["tensor"], actual, path)
        return
    raise Mismatch(f"{show(path)}: cannot read expectation {expected!r}")


# Models an expectations file may name in "load_into": the file must load into them with
# model.load_state_dict(torch.load(file)) (strict) and run a forward pass.
MODELS = {
    "sequential_4_3_2": (lambda: torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2)), (5, 4)),
    "batchnorm_3_4": (lambda: torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4)), (5, 3)),
}


def load_into(name, state_dict):
    make, input_shape = MODELS[name]
    model = make()
    try:
        model.load_state_dict(state_dict)  # strict: names and shapes must all fit
    except RuntimeError as e:
        raise Mismatch(f"load_state_dict into {name} failed: {e}")
    model.eval()
    with torch.no_grad():
        model(torch.zeros(input_shape))
    for key, value in model.state_dict().items():
        if not torch.equal(value, state_dict[key]):
            raise Mismatch(f"{name}: {key} differs after load_state_dict")


# What torch.load(weights_only=True) — the default since PyTorch 2.6 — lets a file name, as far as a
# state_dict or checkpoint needs (torch/_weights_only_unpickler.py: _get_allowed_globals). Files C#
# writes must stay inside it, or modern Python refuses them without weights_only=False.
WEIGHTS_ONLY_GLOBALS = {
    "collections.OrderedDict", "torch.Size",
    "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
}
STORAGE_GLOBAL = re.compile(r"torch\.(\w+Storage)$")


def pickle_globals(file):
    with zipfile.ZipFile(file) as z:
        name = next(n for n in z.namelist() if n.endswith("/data.pkl"))
        data = z.read(name)
    found = set()
    strings = []
    for op, arg, _ in pickletools.genops(data):
        if op.name == "GLOBAL":
            found.add(arg.replace(" ", "."))
        elif op.name == "STACK_GLOBAL":
            found.add(".".join(strings[-2:]))
        if isinstance(arg, str):
            strings.append(arg)
    return found


def check_weights_only_globals(file):
    for g in sorted(pickle_globals(file)):
        if g not in WEIGHTS_ONLY_GLOBALS and not STORAGE_GLOBAL.match(g):
            raise Mismatch(f"the pickle names GLOBAL {g}, which torch.load(weights_only=True) "
                           "(the default since PyTorch 2.6) rejects")


def check_layout(file):
    """The container as PyTorch's writer lays it out: every record stored uncompressed with its data starting on a
    64-byte boundary (kFieldAlignment; torch.load(mmap=True) in PyTorch >= 2.1 maps tensor data straight from the
    file), and a version record beside data.pkl."""
    with zipfile.ZipFile(file) as z, open(file, "rb") as f:
        names = z.namelist()
        prefix = names[0].split("/")[0]
        for required in ("data.pkl", "version"):
            if f"{prefix}/{required}" not in names:
                raise Mismatch(f"the archive has no {prefix}/{required} record")
        for info in z.infolist():
            if info.compress_type != zipfile.ZIP_STORED:
                raise Mismatch(f"record {info.filename} is compressed (method {info.compress_type}), not stored")
            f.seek(info.header_offset + 26)
            name_length, extra_length = struct.unpack("<HH", f.read(4))
            start = info.header_offset + 30 + name_length + extra_length
            if start % 64:
                raise Mismatch(f"record {info.filename}'s data starts at byte {start}, not on a 64-byte boundary")


def verify(pairs):
    ok = True
    for file, expectations in pairs:
        with open(expectations) as f:
            spec = json.load(f)
        try:
            check_weights_only_globals(file)
            check_layout(file)
            # 1.13's weights_only unpickler has no BINFLOAT, so only files without Python floats can
            # be loaded that way here; the expectations say when.
            loaded = torch.load(file, weights_only=bool(spec.get("weights_only", False)))
            check(spec["value"], loaded, [])
            for group in spec.get("shared", []):
                ptrs = {storage_ptr(lookup(loaded, p)) for p in group}
                if len(ptrs) != 1:
                    raise Mismatch(f"tensors {[show(p) for p in group]} should share one storage but do not")
            if "load_into" in spec:
                load_into(spec["load_into"], loaded)
            print(f"OK {file}")
        except Mismatch as e:
            ok = False
            print(f"MISMATCH {file}: {e}")
        except Exception as e:  # most likely a file torch.load cannot read at all
            ok = False
            print(f"ERROR {file}: {type(e).__name__}: {e}")
    return ok


if __name__ == "__main__":
    args = sys.argv[1:]
    if not args or args[0] in ("generate", "--out"):
        generate()
    elif args[0] == "verify" and len(args) >= 3 and len(args) % 2 == 1:
        sys.exit(0 if verify(list(zip(args[1::2], args[2::2]))) else 1)
    else:
        print(__doc__)
        sys.exit(2)
