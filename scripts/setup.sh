#!/usr/bin/env bash
# Installs the Debian packages the tests and the local stack need (Prometheus, Alertmanager, node exporter,
# cloud-init's schema validator, docker-compose for `config -q`, Chromium for the Swagger UI browser test,
# PostgreSQL's server binaries for the state store and lease tests: initdb/pg_ctl under /usr/lib/postgresql/<ver>/bin).
# Safe to re-run: installs only what is missing.
set -euo pipefail

packages=()
command -v prometheus >/dev/null || packages+=(prometheus)
command -v promtool >/dev/null || packages+=(prometheus)
command -v prometheus-alertmanager >/dev/null || packages+=(prometheus-alertmanager)
command -v prometheus-node-exporter >/dev/null || packages+=(prometheus-node-exporter)
command -v cloud-init >/dev/null || packages+=(cloud-init)
command -v docker-compose >/dev/null || packages+=(docker-compose)
[ -x /usr/bin/chromium ] || packages+=(chromium)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || packages+=(postgresql)

if [ ${#packages[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "missing Debian packages: ${packages[*]}" >&2
  echo "install them with: sudo apt-get update && sudo apt-get install -y ${packages[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
# Debian starts the packaged services on install; the project runs its own instances on the same ports.
for service in prometheus prometheus-alertmanager prometheus-node-exporter; do
  (service "$service" stop || systemctl stop "$service") >/dev/null 2>&1 || true
done
# The same for the cluster Debian creates with `postgresql` (port 5432): the tests start throwaway clusters of their own.
if [[ " ${packages[*]} " == *" postgresql "* ]]; then
  (service postgresql stop || systemctl stop postgresql) >/dev/null 2>&1 || true
fi
