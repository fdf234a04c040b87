#!/usr/bin/env bash
# Installs what MLLrSched needs from Debian, skipping what is already there (idempotent).
#   libtorch-dev         libtorch 1.13 headers + CMake config + shared libraries (the default backend)
#   libopenblas0-pthread a fast BLAS for libtorch's matrix products (~16x faster than the reference BLAS)
#   python3-torch        PyTorch 1.13 on the same libtorch: the oracle for golden data and benchmarks
#   python3-sklearn      scikit-learn's bundled CSV datasets (digits, breast cancer, diabetes) for samples/PackageConsumer
#   dataset-fashion-mnist  the real Fashion-MNIST IDX files (/usr/share/datasets/fashion-mnist)
#   fonts-dejavu-core, fontconfig  a font for the charts' text (ScottPlot draws through SkiaSharp, which asks fontconfig)
#   cmake, g++, make     to build the native shim
set -euo pipefail

packages=(libtorch-dev libopenblas0-pthread python3-torch python3-sklearn dataset-fashion-mnist fonts-dejavu-core fontconfig cmake g++ make)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "[setup] system packages present"
else
  echo "[setup] installing: ${missing[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null; then SUDO="sudo"; else
      echo "[setup] error: need root (or sudo) to apt-get install ${missing[*]}" >&2; exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v dotnet >/dev/null; then
  echo "[setup] error: the .NET SDK (10.0) is required on PATH: https://dotnet.microsoft.com/download" >&2
  exit 1
fi
