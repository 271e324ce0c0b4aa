#!/usr/bin/env bash
# Sets up a fresh clone: Debian packages the tests use, npm dependencies, and a build of every
# package. Safe to run again: each step skips work that is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages used by tests and peers. Installed only when missing.
apt_packages=(socat curl bird2 iproute2 gobgpd iputils-arping iputils-ping collectd-core nginx-light mosquitto-clients bsdutils redis-server)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm dependencies: a clean install when the lock file changed since the last one.
stamp=node_modules/.sprout-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "setup: installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi

echo "setup: building packages"
npm run -s build
