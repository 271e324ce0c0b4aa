#!/usr/bin/env bash
# Fetches syslog-ng and rsyslog (the peers of bench/collector-syslog.ts) from Debian without
# installing them: the two packages conflict (both provide system-log-daemon) and neither should
# take over the machine's logging. `apt-get download` the daemons and the libraries the system
# lacks, `dpkg-deb -x` them into one folder, and print that folder. Idempotent: a second run
# finds the binaries and prints the folder at once. The bench runs each daemon unprivileged
# with LD_LIBRARY_PATH into that folder and a config of its own (loopback ports, own pid and
# persist files, no system socket).
#
#   scripts/syslog-peers.sh [DIR]     (default: .sprout/cache/syslog-peers under the checkout)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$here/.sprout/cache/syslog-peers}
root=$dir/root
if [[ -x $root/usr/sbin/syslog-ng && -x $root/usr/sbin/rsyslogd ]]; then echo "$root"; exit 0; fi

mkdir -p "$dir/debs" "$root"
pkgs=(syslog-ng-core rsyslog)
# Libraries the daemons link that a base system may not have (the rest are installed already).
for lib in libivykis0 libnet1 libpcre3 libestr0 libfastjson4 liblognorm5 libjson-c5 libwrap0; do
  dpkg-query -W -f='${Status}' "$lib" 2>/dev/null | grep -q 'install ok installed' || pkgs+=("$lib")
done
(cd "$dir/debs" && apt-get download "${pkgs[@]}" >&2) || {
  echo "syslog-peers: apt-get download failed (run apt-get update?)" >&2
  exit 1
}
for deb in "$dir"/debs/*.deb; do dpkg-deb -x "$deb" "$root"; done
[[ -x $root/usr/sbin/syslog-ng && -x $root/usr/sbin/rsyslogd ]] || {
  echo "syslog-peers: binaries missing after extraction under $root" >&2
  exit 1
}
echo "$root"
