#!/usr/bin/env bash
# Checks every service the test suite talks to and starts the ones that are down.
# Under CI=true a service that cannot be started fails the run.
set -uo pipefail

up() { timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

wait_up() {
  local port=$1 i
  for i in $(seq 1 60); do up "$port" && return 0; sleep 0.5; done
  return 1
}

failed=()
ensure() {
  local name=$1 port=$2; shift 2
  if up "$port"; then return 0; fi
  echo "services: $name is down on 127.0.0.1:$port, starting it"
  ( "$@" ) >/dev/null 2>&1 || true
  if wait_up "$port"; then echo "services: $name is up"; else failed+=("$name:$port"); fi
}

ensure postgresql 5432 bash -c 'pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start'
ensure redis 6379 redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
ensure rabbitmq 5672 rabbitmq-server -detached
ensure mosquitto 1883 mosquitto -d
ensure nats 4222 start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server
ensure mariadb 3306 start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd

if ((${#failed[@]})); then
  echo "services: could not start: ${failed[*]}" >&2
  if [ "${CI:-}" = "true" ]; then exit 1; fi
  echo "services: tests that need them will fail; start them and run again" >&2
fi
exit 0
