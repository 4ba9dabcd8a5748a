#!/bin/bash
# Runs on a control-plane VM (control_plane_replicas = 2), before the compose stack starts: resolves the DBaaS
# PostgreSQL's host and port and its CA through the Exoscale API and writes the control plane's DATABASE_URL.
# Terraform cannot put them in the user-data: the database's IP filter holds the VMs' own addresses, so the database
# is created after the VMs (terraform/control-plane-replicas.tf). The password is Terraform's (admin_password).
# In:  /etc/autoscaler/database.conf (REPLICA_ID, DATABASE_SERVICE, DATABASE_ZONE, DATABASE_USER, DATABASE_PASSWORD)
#      and EXOSCALE_KEY/EXOSCALE_SECRET from /etc/autoscaler/monitor.env.
# Out: /etc/autoscaler/database/ca.pem, and DATABASE_URL and REPLICA_ID in /etc/autoscaler/monitor.env (root-only),
#      which docker-compose.monitor.yml hands to the control plane.
set -euo pipefail

# EXO2-HMAC-SHA256 of a request without body or query (libs/exoscale-client/src/signing.ts): prints the signature.
sign() {
  local method=$1 path=$2 expires=$3
  printf '%s %s\n\n\n\n%s' "$method" "$path" "$expires" |
    openssl dgst -sha256 -hmac "$EXOSCALE_SECRET" -binary | base64 -w0
}

api_get() {
  local path=$1 expires
  expires=$(($(date +%s) + 600))
  curl -fsS --max-time 30 \
    -H "Authorization: EXO2-HMAC-SHA256 credential=${EXOSCALE_KEY},expires=${expires},signature=$(sign GET "$path" "$expires")" \
    "https://api-${DATABASE_ZONE}.exoscale.com${path}"
}

setting() { sed -n "s/^$1=//p" "$2" | head -n 1; }

# A field of the JSON on stdin, by its path of keys (python3 comes with Ubuntu's cloud-init; no package to install).
field() {
  python3 -c 'import json, sys
value = json.load(sys.stdin)
for key in sys.argv[1:]:
    value = value.get(key) if isinstance(value, dict) else None
print("" if value is None else value)' "$@"
}

main() {
  # ETC_DIR: tests only (the container sees the CA at /etc/autoscaler/database/ca.pem either way).
  local etc=${ETC_DIR:-/etc/autoscaler}
  local conf=$etc/database.conf env=$etc/monitor.env
  REPLICA_ID=$(setting REPLICA_ID "$conf")
  DATABASE_SERVICE=$(setting DATABASE_SERVICE "$conf")
  DATABASE_ZONE=$(setting DATABASE_ZONE "$conf")
  DATABASE_USER=$(setting DATABASE_USER "$conf")
  DATABASE_PASSWORD=$(setting DATABASE_PASSWORD "$conf")
  EXOSCALE_KEY=$(setting EXOSCALE_KEY "$env")
  EXOSCALE_SECRET=$(setting EXOSCALE_SECRET "$env")

  # The database is created after this VM and takes minutes: wait until it runs (up to 25 minutes).
  local service host="" port="" dbname="" attempt
  for attempt in $(seq 1 "${ATTEMPTS:-150}"); do
    if service=$(api_get "/v2/dbaas-postgres/${DATABASE_SERVICE}" 2>/dev/null) &&
      [ "$(field state <<<"$service")" = running ]; then
      host=$(field uri-params host <<<"$service")
      port=$(field uri-params port <<<"$service")
      dbname=$(field uri-params dbname <<<"$service")
      [ -n "$host" ] && [ -n "$port" ] && break
    fi
    echo "database-url: ${DATABASE_SERVICE} is not running yet (attempt ${attempt})" >&2
    sleep "${RETRY_SECONDS:-10}"
  done
  if [ -z "$host" ] || [ -z "$port" ]; then
    echo "database-url: ${DATABASE_SERVICE} did not come up: the control plane cannot start" >&2
    exit 1
  fi

  install -d -m 0755 "$etc/database"
  api_get /v2/dbaas-ca-certificate | field certificate >"$etc/database/ca.pem.new"
  [ -s "$etc/database/ca.pem.new" ]
  mv "$etc/database/ca.pem.new" "$etc/database/ca.pem"

  # Into the env file compose reads (root-only), replacing an earlier boot's lines. verify-full against the service's
  # own CA: node-postgres treats sslmode=require as verify-full against the public CAs, which would refuse the
  # DBaaS certificate (signed by its project CA).
  local next
  next=$(mktemp "$env.XXXXXX")
  grep -v -E '^(DATABASE_URL|REPLICA_ID)=' "$env" >"$next" || true
  printf 'DATABASE_URL=%s\nREPLICA_ID=%s\n' \
    "postgres://${DATABASE_USER}:${DATABASE_PASSWORD}@${host}:${port}/${dbname:-defaultdb}?sslmode=verify-full&sslrootcert=/etc/autoscaler/database/ca.pem" \
    "$REPLICA_ID" >>"$next"
  chmod 0600 "$next"
  mv "$next" "$env"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  main "$@"
fi
