"""What every golden-data script shares: where its output goes and what it records about the PyTorch that made it.

Golden data is kept per PyTorch version, because PyTorch's own numbers change between versions (NAdam's update,
new param_group keys, ...): tools/golden/data/torch-<major>.<minor>/<kind>/. The tests pick the set that matches the
libtorch the engine under test was built against.

Every script takes an optional ``--out DIR`` that replaces the folder its kind is written to. The live differential
tests use it to regenerate the reference on the spot (same CPU, same libtorch) into a temporary folder, and
tools/golden/cpu_variation.py uses it to measure how much PyTorch itself varies across OpenBLAS kernels.
"""
import os
import subprocess
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def torch_series():
    """'1.13', '2.6', ... of the running torch (Debian's 1.13.1 reports '1.13.0a0')."""
    major, minor = torch.__version__.split(".")[:2]
    return f"{major}.{minor}"


def torch_package():
    """Where this torch came from, e.g. 'Debian python3-torch 1.13.1+dfsg-4' (or pip's version string)."""
    try:
        version = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "python3-torch"], capture_output=True,
                                 text=True, check=True).stdout.strip()
        if version and torch.__file__.startswith("/usr/lib/python3/"):
            return f"Debian python3-torch {version.split('+')[0]}"
    except (OSError, subprocess.CalledProcessError):
        pass
    return f"torch {torch.__version__} ({os.path.dirname(torch.__file__)})"


def set_dir():
    """tools/golden/data/torch-X.Y: the golden set of the running torch."""
    return os.path.join(HERE, "data", f"torch-{torch_series()}")


def out_dir(kind, argv=None):
    """The folder to write ``kind`` to: ``--out DIR`` from the command line, else <set>/<kind>. Created if missing."""
    argv = sys.argv[1:] if argv is None else argv
    path = os.path.join(set_dir(), kind)
    if "--out" in argv:
        i = argv.index("--out")
        if i + 1 >= len(argv):
            sys.exit("--out needs a folder")
        path = argv[i + 1]
    os.makedirs(path, exist_ok=True)
    return path


def openblas_core():
    """The kernel family OpenBLAS chose for this CPU (or that OPENBLAS_CORETYPE forced): float results of matrix
    products follow it, so a golden file says which one made it."""
    import ctypes
    for name in ("libblas.so.3", "libopenblas.so.0"):
        try:
            get = ctypes.CDLL(name).openblas_get_corename
        except (OSError, AttributeError):
            continue
        get.restype = ctypes.c_char_p
        return get().decode()
    return "unknown (not OpenBLAS)"


def meta(generator, **extra):
    """The header every golden file carries."""
    return {"generator": generator, "torch_version": torch.__version__, "torch_package": torch_package(),
            "openblas_core": openblas_core(), **extra}
