#!/usr/bin/env bash
# Sets up a fresh clone: Debian packages the tests use, npm dependencies, and a build of every
# package. Safe to run again: each step skips work that is already done. A long step prints a line
# every few seconds (SPROUT_SETUP_HEARTBEAT seconds: 5, or 10 under CI=true), so it is never silent.
set -euo pipefail

# Runs "$@" and, while it runs, prints "setup: <label>: <n> s<detail>" every heartbeat, where
# <detail> is the output of the command named by $progress (if set). Exits with the command's status.
with_heartbeat() {
  local label=$1
  shift
  local every=${SPROUT_SETUP_HEARTBEAT:-$([ "${CI:-}" = true ] && echo 10 || echo 5)}
  local start=$SECONDS next=$((SECONDS + every)) pid status=0
  "$@" &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= next)); then
      echo "setup: ${label}: $((SECONDS - start)) s${progress:+$($progress)}"
      next=$((SECONDS + every))
    fi
    sleep 0.2
  done
  wait "$pid" || status=$?
  return "$status"
}

# ", <n> packages in node_modules" while npm ci unpacks them.
npm_progress() {
  local n
  n=$({ compgen -G 'node_modules/*/package.json' || true; compgen -G 'node_modules/@*/*/package.json' || true; } | wc -l)
  echo ", ${n// /} packages in node_modules"
}

# "$@" with its standard output dropped.
quietly() { "$@" >/dev/null; }

main() {
  cd "$(dirname "${BASH_SOURCE[0]}")/.."

  # Debian packages used by tests and peers. Installed only when missing.
  apt_packages=(socat curl bird2 iproute2 gobgpd iputils-arping iputils-ping collectd-core nginx-light mosquitto-clients bsdutils redis-server
    chromium skopeo umoci docker-registry openssh-server openssh-client apache2-utils openssl)
  missing=()
  for p in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "setup: installing Debian packages: ${missing[*]}"
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo"
    with_heartbeat "updating the Debian package lists" $SUDO apt-get update -qq
    with_heartbeat "installing Debian packages" quietly \
      $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi

  # npm dependencies: a clean install when the lock file changed since the last one.
  stamp=node_modules/.sprout-lock-stamp
  if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
    echo "setup: installing npm dependencies (about a minute on a fresh clone)"
    progress=npm_progress with_heartbeat "installing npm dependencies" npm ci --no-audit --no-fund --loglevel=error
    cp package-lock.json "$stamp"
  fi

  echo "setup: building packages"
  with_heartbeat "building packages" npm run -s build
  echo "setup: done"
}

# Sourced (by its test) it only defines the functions above.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then main "$@"; fi
