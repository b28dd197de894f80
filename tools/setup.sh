#!/usr/bin/env bash
# Installs what servesim needs (Debian packages, only those missing) and builds it
# into ./build. Idempotent: a second run installs nothing and rebuilds only what changed.
# Usage: tools/setup.sh            (as root, or with sudo available)
set -euo pipefail
cd "$(dirname "$0")/.."

# OpenMPI (openmpi-bin: mpirun; libopenmpi-dev: the headers CMake looks for) builds MPI sweeps
# (`mpirun -np N servesim sweep`) and lets their test run; without it sweeps are local only.
packages=(g++ cmake make pkg-config libsimgrid-dev nlohmann-json3-dev libeigen3-dev libboost-dev zlib1g-dev
          libboost-program-options-dev libgtest-dev libgmock-dev libbenchmark-dev python3
          openmpi-bin libopenmpi-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "servesim setup: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$jobs" >&2
