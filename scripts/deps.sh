#!/usr/bin/env bash
# Installs the Debian packages the project uses, once: quiet when all are present.
# Usage: scripts/deps.sh [extra-package ...]
set -euo pipefail
PACKAGES=(libuv1-dev librabbitmq-dev libssl-dev libsqlite3-dev libpq-dev zlib1g-dev
          rabbitmq-server postgresql-15 postgresql-client-15 nginx-light python3 curl "$@")
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# policy-rc.d keeps apt from starting the system's rabbitmq/nginx/postgres services:
# the project runs its own private instances.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: installed" >&2
