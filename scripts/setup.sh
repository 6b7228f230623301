#!/usr/bin/env bash
# Installs, from Debian's packages, everything mloop needs to build, test and benchmark.
# Idempotent: packages already installed are left alone, and apt is not touched at all
# when nothing is missing.
set -euo pipefail

packages=(
  cmake ninja-build g++ ccache pkg-config git
  libssl-dev nlohmann-json3-dev libyaml-cpp-dev libfmt-dev libzstd-dev
  libsqlite3-dev libcli11-dev libgtest-dev libgmock-dev
  libxgboost-dev libeigen3-dev libboost-dev
  python3 python3-pandas python3-numpy python3-yaml python3-sklearn python3-scipy python3-xgboost
  python3-statsmodels
  time
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: missing Debian packages: ${missing[*]}" >&2
  echo "setup: run as root (or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi

echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
