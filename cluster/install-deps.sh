#!/usr/bin/env bash
# Installs the Debian packages weft builds and runs with, skipping those already present.
# As root it calls apt-get directly; otherwise through sudo when sudo exists.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config  # toolchain
  liblua5.4-dev                                 # scenarios
  libopenmpi-dev openmpi-bin                    # distributed runs
  libhdf5-openmpi-dev hdf5-tools                # traces (the OpenMPI build of HDF5), h5dump
  gnuplot-nox                                   # reports
  libcmocka-dev                                 # tests
  wabt clang lld                                # WASM modules: interpreter, wasm2c, wasm32 builds
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "install-deps: missing ${missing[*]}; run this script as root (no sudo here)" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
