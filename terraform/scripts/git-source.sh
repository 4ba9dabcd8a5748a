#!/usr/bin/env bash
# Terraform `external` data source: which repository and commit the monitoring VM deploys.
# Input (JSON on stdin): {"repository_url": "...", "repository_ref": "..."}; empty values mean "derive them".
# Output (JSON on stdout): {"url": "https://...", "ref": "<commit or name>"}.
# Derived: the url from this checkout's `origin` (ssh remotes become https), the ref from HEAD, which must be
# on a branch of origin: the VM clones from there, so an unpushed commit would deploy something else or fail.
# Any problem exits 1 with a message on stderr, which Terraform shows and which stops the plan.
set -euo pipefail

fail() {
  printf 'git-source: %s\n' "$*" >&2
  exit 1
}

input=$(cat)
# The query holds two plain strings; read them without requiring jq on the user's machine.
field() { printf '%s' "$input" | sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\\([^\"]*\\)\".*/\\1/p"; }
url=$(field repository_url)
ref=$(field repository_ref)

cd "$(dirname "$0")/.."
if [ -z "$url" ] || [ -z "$ref" ]; then
  git rev-parse --git-dir >/dev/null 2>&1 ||
    fail "terraform/ is not inside a Git checkout: set repository_url and repository_ref"
fi

if [ -z "$url" ]; then
  origin=$(git remote get-url origin 2>/dev/null) ||
    fail "this checkout has no 'origin' remote: push it somewhere the VM can clone from, or set repository_url"
  case "$origin" in
    https://*) url=$origin ;;
    git@*:*) host=${origin#git@}; url="https://${host%%:*}/${host#*:}" ;;
    ssh://git@*) rest=${origin#ssh://git@}; url="https://${rest}" ;;
    *) fail "origin ($origin) is not an https or ssh Git URL the VM can clone: set repository_url" ;;
  esac
fi

if [ -z "$ref" ]; then
  ref=$(git rev-parse HEAD 2>/dev/null) || fail "this checkout has no commit yet"
  if [ -z "$(git branch -r --contains "$ref" 2>/dev/null | grep '^ *origin/' || true)" ]; then
    fail "HEAD ($ref) is not on any branch of origin: push it (git push) so the monitoring VM can fetch it, or set repository_ref"
  fi
fi

printf '%s' "$url" | grep -Eq '^https://[A-Za-z0-9._~:/@%+-]+$' || fail "repository url ${url} is not an https Git URL"
printf '%s' "$ref" | grep -Eq '^[A-Za-z0-9._/-]+$' || fail "repository ref ${ref} is not a branch, tag or commit"
printf '{"url":"%s","ref":"%s"}\n' "$url" "$ref"
