#!/usr/bin/env bash
# Installs prerequisites, builds the native shim and the .NET solution (Release). Idempotent.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/tools/setup.sh"
bash "$root/tools/build-native.sh"
echo "[dotnet] building MLLrSched.sln"
dotnet build "$root/MLLrSched.sln" -c Release -nologo -v quiet -clp:ErrorsOnly
# The optional ML.NET / TorchSharp adapters: built where their packages restore, else one line says they were skipped.
bash "$root/tools/adapters.sh"
