#!/usr/bin/env bash
# The held-out check of the packages: pack every MLLrSched package into a local folder feed, build this sample against
# that feed (PackageReferences only — no project of the repository), train on scikit-learn's digits / breast cancer /
# diabetes sets (Debian's python3-sklearn), evaluate against ML.NET's SDCA, save, reload and predict; then score the
# saved models in a second process that must not load libtorch.
#
#   bash samples/PackageConsumer/run.sh
#
# Settings (environment):
#   MLLRSCHED_MLNET_VERSION      Microsoft.ML the sample uses: 5.0.1 (default) or 6.0.0
#   MLLRSCHED_SAMPLE_ENGINE      native (default: MLLrSched.Torch over the system's libtorch) or torchsharp
#                                (MLLrSched.TorchSharp + TorchSharp-cpu; needs GLIBCXX_3.4.32, i.e. the Debian 13 root)
#   SKLEARN_DATA                 the data folder (default /usr/lib/python3/dist-packages/sklearn/datasets/data)
# Output: progress lines, then ONE last line "sample PackageConsumer: ok: ..." or "sample PackageConsumer: FAILED: ...".
# Exit code: 0 ok, 1 failed. Everything it writes is under artifacts/sample/ (feed, package cache, build, models).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$root/samples/PackageConsumer"
work="$root/artifacts/sample"
mlnet="${MLLRSCHED_MLNET_VERSION:-5.0.1}"
engine="${MLLRSCHED_SAMPLE_ENGINE:-native}"
data="${SKLEARN_DATA:-/usr/lib/python3/dist-packages/sklearn/datasets/data}"
fail() { echo "sample PackageConsumer: FAILED: $*"; exit 1; }

# The data ships in Debian's python3-sklearn; install it where we may (as tools/setup.sh installs its packages).
if [[ ! -f "$data/digits.csv.gz" ]]; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "[sample] installing python3-sklearn (scikit-learn's bundled data sets)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-sklearn >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-sklearn >/dev/null 2>&1; }
  fi
  [[ -f "$data/digits.csv.gz" ]] || fail "no $data/digits.csv.gz: install python3-sklearn (apt install python3-sklearn) or set SKLEARN_DATA"
fi

# A package version no package cache has seen, so the build cannot pick up an older package of the same number.
prefix=$(sed -n 's:.*<VersionPrefix>\(.*\)</VersionPrefix>.*:\1:p' "$root/Directory.Build.props" | head -1)
version="$prefix-sample.$(date +%s)"
rm -rf "$work/feed" "$work/build" "$work/models"
mkdir -p "$work/feed" "$work/packages"
echo "[sample] packing MLLrSched $version into $work/feed"
# The packages are built against the default Microsoft.ML (5.0.1); the sample then uses $mlnet, as a user upgrading would.
env -u MLLRSCHED_MLNET_VERSION MLLRSCHED_PACKAGE_VERSION="$version" bash "$root/tools/pack.sh" "$work/feed" >"$work/pack.log" 2>&1 || { cat "$work/pack.log"; fail "tools/pack.sh failed"; }

# Restore from the feed and nuget.org into a private package folder; packages already in the global folder are used
# from there (a fallback folder) instead of being downloaded again.
global="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
nugetorg=$(sed -n 's:.*<add key="nuget.org" value="\([^"]*\)".*:\1:p' "$root/nuget.config" | head -1)
cat >"$work/nuget.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="local-feed" value="$work/feed" />
    <add key="nuget.org" value="${nugetorg:-https://api.nuget.org/v3/index.json}" />
  </packageSources>
  <fallbackPackageFolders>
    <add key="global" value="$global" />
  </fallbackPackageFolders>
</configuration>
EOF
rm -rf "$work/packages"/mllrsched.*
export NUGET_PACKAGES="$work/packages"
props=(-p:MLLrSchedVersion="$version" -p:MLNetVersion="$mlnet" -p:SampleEngine="$engine")
echo "[sample] building against the feed (Microsoft.ML $mlnet, engine $engine)"
dotnet restore "$here/PackageConsumer.csproj" --configfile "$work/nuget.config" "${props[@]}" --artifacts-path "$work/build" -nologo -v quiet \
  >"$work/build.log" 2>&1 || { cat "$work/build.log"; fail "restore failed"; }
dotnet build "$here/PackageConsumer.csproj" -c Release --no-restore "${props[@]}" --artifacts-path "$work/build" -nologo -v quiet -clp:ErrorsOnly \
  >>"$work/build.log" 2>&1 || { cat "$work/build.log"; fail "build failed"; }
resolved=$(python3 - "$work/build/obj/PackageConsumer/project.assets.json" <<'PY'
import json, sys
libs = json.load(open(sys.argv[1]))["libraries"]
print(", ".join(sorted(k.replace("/", " ") for k in libs if k.split("/")[0] in ("MLLrSched.MLExtensions", "MLLrSched.Torch", "MLLrSched.TorchSharp", "Microsoft.ML", "Microsoft.ML.OnnxTransformer", "Microsoft.ML.OnnxRuntime"))))
PY
)
echo "[sample] resolved: $resolved"
[[ "$resolved" == *"MLLrSched.MLExtensions $version"* ]] || fail "MLLrSched.MLExtensions $version did not come from the feed (resolved: $resolved)"

dll="$work/build/bin/PackageConsumer/release/PackageConsumer.dll"
train=$(dotnet "$dll" train "$work/models" 2>&1 | tee "$work/train.log" | grep -v '^\s*$'; exit "${PIPESTATUS[0]}")
train_rc=$?
echo "$train" | sed 's/^/[sample] /'
[[ $train_rc == 0 ]] || fail "$(echo "$train" | tail -1)"
score=$(dotnet "$dll" score "$work/models" 2>&1 | tee "$work/score.log"; exit "${PIPESTATUS[0]}")
score_rc=$?
echo "$score" | sed 's/^/[sample] /'
[[ $score_rc == 0 ]] || fail "$(echo "$score" | tail -1)"
echo "sample PackageConsumer: ok: packages $version from a local feed, Microsoft.ML $mlnet, engine $engine; $(echo "$train" | tail -1 | sed 's/^train: ok: //'); scored in a second process without libtorch"
