#!/usr/bin/env bash
# Ghost.ML build entry point.
#
#   ./build.sh sample [args]   build and run samples/ImageClassification (args go to the sample)
#   ./build.sh test            restore, build and run every test
#   ./build.sh bench [args]    quick benchmarks (see BENCHMARKS.md)
#   ./build.sh build           restore and build everything
#   ./build.sh pack            the Ghost.ML.Torch and Ghost.ML NuGet packages (and symbols) in artifacts/packages
#
# Environment: CONFIGURATION (default Release), TORCH_BACKEND (cpu | cuda-linux | cuda-windows; default cpu).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CONFIGURATION="${CONFIGURATION:-Release}"
TORCH_BACKEND="${TORCH_BACKEND:-cpu}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

say() { printf '[build.sh] %s\n' "$*"; }
die() { printf '[build.sh] error: %s\n' "$*" >&2; exit 1; }

# TorchSharp 0.107's native library needs GLIBCXX_3.4.32 (the libstdc++ of GCC 13 or newer).
# Debian 12 ships GCC 12's; Debian 13's libstdc++6 is a drop-in upgrade, so on Debian 12 (as root)
# we add the trixie suite at APT pin priority 100 (nothing else is upgraded from it) and install it.
ensure_libstdcxx() {
  [[ "$(uname -s)" == Linux ]] || return 0
  local lib
  # awk reads to the end instead of exiting at the first match: an early exit would kill ldconfig with SIGPIPE,
  # which pipefail and set -e turn into a silent exit of this script whenever ldconfig is still writing.
  lib="$(ldconfig -p 2>/dev/null | awk '!found && /libstdc\+\+\.so\.6 .*x86-64|libstdc\+\+\.so\.6 .*AArch64/ {print $NF; found = 1}')"
  [[ -n "$lib" ]] || lib="$(ldconfig -p 2>/dev/null | awk '!found && /libstdc\+\+\.so\.6/ {print $NF; found = 1}')"
  if [[ -n "$lib" ]] && grep -qa 'GLIBCXX_3\.4\.32' "$lib"; then
    return 0
  fi
  local fix="add the Debian 13 (trixie) suite with APT pin priority 100 and run 'apt-get install -t trixie libstdc++6'"
  local id="" version=""
  if [[ -r /etc/os-release ]]; then
    id="$(. /etc/os-release && echo "${ID:-}")"
    version="$(. /etc/os-release && echo "${VERSION_ID:-}")"
  fi
  if [[ "$id" != debian || "$version" != 12 ]]; then
    die "TorchSharp needs libstdc++ with GLIBCXX_3.4.32 (GCC 13+), which ${lib:-the system libstdc++} lacks. Install a newer libstdc++6 (on Debian 12: $fix)."
  fi
  if [[ "$(id -u)" != 0 ]]; then
    die "TorchSharp needs GLIBCXX_3.4.32, which Debian 12's libstdc++6 lacks. As root, $fix (or rerun ./build.sh as root to have it done)."
  fi
  say "Debian 12's libstdc++ lacks GLIBCXX_3.4.32, which TorchSharp needs."
  say "Adding the Debian 13 (trixie) suite at pin priority 100 and installing libstdc++6 from it."
  # Reuse the mirror this machine is already configured with rather than naming one here.
  local mirror=""
  if [[ -r /etc/apt/sources.list.d/debian.sources ]]; then
    mirror="$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)"
  fi
  if [[ -z "$mirror" && -r /etc/apt/sources.list ]]; then
    mirror="$(awk '$1 == "deb" && $3 ~ /^bookworm$/ {print $2; exit}' /etc/apt/sources.list)"
  fi
  [[ -n "$mirror" ]] || die "could not find the Debian mirror in APT's sources; $fix by hand."
  cat > /etc/apt/sources.list.d/ghost-ml-trixie.sources <<EOF
Types: deb
URIs: $mirror
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  cat > /etc/apt/preferences.d/ghost-ml-trixie <<'EOF'
Package: *
Pin: release n=trixie
Pin-Priority: 100
EOF
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t trixie libstdc++6 >/dev/null
  lib="$(ldconfig -p | awk '!found && /libstdc\+\+\.so\.6/ {print $NF; found = 1}')"
  grep -qa 'GLIBCXX_3\.4\.32' "$lib" || die "libstdc++6 from trixie did not provide GLIBCXX_3.4.32."
  say "libstdc++6 upgraded: $(dpkg-query -W -f '${Version}' 'libstdc++6' 2>/dev/null || true)"
}

dotnet_build() {
  dotnet build "$ROOT/GhostML.sln" -c "$CONFIGURATION" -p:TorchBackend="$TORCH_BACKEND" -nologo -v:quiet "$@"
}

cmd="${1:-}"
[[ $# -gt 0 ]] && shift
case "$cmd" in
  build)
    ensure_libstdcxx
    dotnet_build
    ;;
  test)
    ensure_libstdcxx
    dotnet_build
    results="$ROOT/artifacts/test-results"
    rm -rf "$results"
    # One project at a time, each with its own results file: libtorch uses every core in each of them.
    failures=0
    for project in "$ROOT"/tests/*/*.csproj; do
      name="$(basename "$project" .csproj)"
      dotnet test "$project" -c "$CONFIGURATION" -p:TorchBackend="$TORCH_BACKEND" --no-build -nologo \
        --logger "trx;LogFileName=$name.trx" --results-directory "$results" "$@" || failures=$((failures + 1))
    done
    [[ $failures -eq 0 ]] || die "$failures test project(s) failed."
    ;;
  pack)
    dotnet pack "$ROOT/GhostML.sln" -c Release -nologo -v:quiet -o "$ROOT/artifacts/packages" "$@"
    say "packages in artifacts/packages: $(cd "$ROOT/artifacts/packages" && echo *.nupkg)"
    ;;
  sample)
    project="$ROOT/samples/ImageClassification/ImageClassification.csproj"
    [[ -f "$project" ]] || die "the sample (samples/ImageClassification) does not exist yet."
    ensure_libstdcxx
    dotnet build "$project" -c "$CONFIGURATION" -p:TorchBackend="$TORCH_BACKEND" -nologo -v:quiet
    dotnet run --project "$project" -c "$CONFIGURATION" -p:TorchBackend="$TORCH_BACKEND" --no-build -- \
      --output "$ROOT/artifacts/sample" "$@"
    ;;
  bench)
    project="$ROOT/bench/Ghost.ML.Benchmarks/Ghost.ML.Benchmarks.csproj"
    [[ -f "$project" ]] || die "the benchmarks (bench/) do not exist yet."
    ensure_libstdcxx
    dotnet build "$project" -c Release -p:TorchBackend="$TORCH_BACKEND" -nologo -v:quiet
    dotnet run --project "$project" -c Release -p:TorchBackend="$TORCH_BACKEND" --no-build -- "${@:-quick}"
    ;;
  *)
    echo "usage: ./build.sh {sample|test|bench|build|pack} [args]" >&2
    exit 2
    ;;
esac
