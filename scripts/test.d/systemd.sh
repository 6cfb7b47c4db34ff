#!/usr/bin/env bash
# systemd units as an operator installs them: `make install` into a DESTDIR, then
# `systemd-analyze verify` on every unit with that DESTDIR as the root (so ExecStart must
# point at an installed, executable binary), notifyd's offline security exposure at most 2.0,
# and `make uninstall` leaving nothing of ours behind.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
dest=$(mktemp -d /tmp/instaverse-install.XXXXXX)
trap 'rm -rf "$dest"' EXIT

make -s install NOBUILD=1 CONFIG_INSTALL=debug DESTDIR="$dest" PREFIX=/usr/local \
    ALLOWED_ORIGINS=https://app.example PUBLIC_ORIGIN=https://gw.example >/dev/null
units=(notifyd.service auth-service.service story-service.service social-service.service
       instaverse-gateway.service instaverse.target)
unitdir="$dest/usr/local/lib/systemd/system"
for u in "${units[@]}"; do
    [ -f "$unitdir/$u" ] || { echo "systemd: $u was not installed"; exit 1; }
done
grep -qE '@[A-Z_]+@' "$unitdir/notifyd.service" && { echo "systemd: unfilled @placeholder@ in notifyd.service"; exit 1; }
[ -f "$dest/etc/instaverse/gateway.conf" ] || { echo "systemd: gateway.conf not installed"; exit 1; }
gw="$dest/etc/instaverse/gateway.conf"
grep -qE '@[A-Z0-9_]+@' "$gw" && { echo "systemd: unfilled @placeholder@ in gateway.conf"; exit 1; }
[ -f "$dest/usr/local/share/instaverse/openapi.json" ] && grep -q 'root /usr/local/share/instaverse;' "$gw" ||
    { echo "systemd: openapi.json not installed where gateway.conf serves it from"; exit 1; }
# One list of origins: the gateway allows the listed and the public origin, and notifyd's
# example environment carries the same list.
grep -qF '"https://app.example" $http_origin;' "$gw" && grep -qF '"https://gw.example" $http_origin;' "$gw" &&
    grep -qx 'INSTAVERSE_ALLOWED_ORIGINS=https://app.example,https://gw.example' "$dest/etc/instaverse/notifyd.env.example" ||
    { echo "systemd: the gateway's CORS origins and notifyd's allowed origins differ"; exit 1; }

# verify resolves units the installed ones depend on (sysinit.target, ...) under --root.
mkdir -p "$dest/usr/lib/systemd"
cp -r /lib/systemd/system "$dest/usr/lib/systemd/system"
# The gateway unit runs the system's nginx (a dependency, not something we install).
mkdir -p "$dest/usr/sbin" && cp "$(command -v nginx)" "$dest/usr/sbin/nginx"
status=0
for u in "${units[@]}"; do
    if out=$(systemd-analyze verify --root="$dest" "$unitdir/$u" 2>&1); then
        echo "systemd: verify $u ok"
    else
        echo "systemd: verify $u FAILED:"; echo "$out"; status=1
    fi
done
# A unit whose binary is missing must fail verify: the check above can fail.
sed 's#/usr/local/bin/notifyd#/usr/local/bin/notifyd.missing#' "$unitdir/notifyd.service" > "$unitdir/broken.service"
if systemd-analyze verify --root="$dest" "$unitdir/broken.service" >/dev/null 2>&1; then
    echo "systemd: verify accepted a unit with a missing binary"; status=1
fi
rm -f "$unitdir/broken.service"

exposure=$(systemd-analyze security --offline=yes "$unitdir/notifyd.service" 2>/dev/null | sed -n 's/.*Overall exposure level for notifyd.service: \([0-9.]*\).*/\1/p')
echo "systemd: notifyd exposure $exposure (limit 2.0)"
systemd-analyze security --offline=yes --threshold=20 "$unitdir/notifyd.service" >/dev/null 2>&1 ||
    { echo "systemd: notifyd exposure above 2.0"; status=1; }

make -s uninstall DESTDIR="$dest" PREFIX=/usr/local >/dev/null
left=$(find "$dest/usr/local" "$dest/etc" -type f 2>/dev/null | wc -l)
[ "$left" -eq 0 ] || { echo "systemd: uninstall left $left files"; find "$dest/usr/local" "$dest/etc" -type f; status=1; }
exit $status
