#!/usr/bin/env python3
"""Fills in an nginx config template; the one renderer for scripts/servers.sh and `make install`.

    render-nginx.py SRC DST [NAME=VALUE ...]   SRC or DST may be '-' (stdin, stdout)
    render-nginx.py --origins                  print the allowed origins as one comma list

Every @NAME@ in SRC becomes VALUE from the arguments, else the environment variable
INSTAVERSE_NAME; a placeholder with neither is an error, so nothing is left half-filled.

@ALLOWED_ORIGINS_MAP@ is computed: one nginx `map` entry per allowed origin. The allowed
origins are INSTAVERSE_ALLOWED_ORIGINS (comma list of exact origins, the same variable notifyd
reads for its WebSocket Origin check) plus INSTAVERSE_PUBLIC_ORIGIN (the gateway's own
origin, always allowed so a page the gateway serves can open the WebSocket). `--origins`
prints that same merged list, so the scripts give notifyd exactly what the gateway allows.
An entry that is not an exact origin (scheme://host[:port], nothing else) is refused: it
would otherwise be pasted into the nginx config.
"""
import os
import re
import sys

ORIGIN = re.compile(r"^https?://([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?$")


def allowed_origins():
    raw = os.environ.get("INSTAVERSE_ALLOWED_ORIGINS", "").split(",")
    raw.append(os.environ.get("INSTAVERSE_PUBLIC_ORIGIN", ""))
    origins = []
    for entry in (o.strip() for o in raw):
        if not entry:
            continue
        if not ORIGIN.match(entry):
            sys.exit("render-nginx: %r is not an exact origin (scheme://host[:port])" % entry)
        if entry.lower() not in (o.lower() for o in origins):
            origins.append(entry)
    return origins


def origin_map():
    # nginx matches map strings case-insensitively, as origins compare.
    return "\n".join('        "%s" $http_origin;' % o for o in allowed_origins())


def render(text, values):
    def sub(match):
        name = match.group(1)
        if name == "ALLOWED_ORIGINS_MAP":
            return origin_map()
        if name in values:
            return values[name]
        value = os.environ.get("INSTAVERSE_" + name)
        if value is None:
            sys.exit("render-nginx: the template needs %s=... or INSTAVERSE_%s" % (name, name))
        return value
    return re.sub(r"@([A-Z0-9_]+)@", sub, text)


def main(argv):
    if argv[1:] == ["--origins"]:
        print(",".join(allowed_origins()))
        return
    if len(argv) < 3:
        sys.exit(__doc__)
    src, dst = argv[1], argv[2]
    values = dict(arg.split("=", 1) for arg in argv[3:])
    text = sys.stdin.read() if src == "-" else open(src).read()
    out = render(text, values)
    if dst == "-":
        sys.stdout.write(out)
    else:
        with open(dst, "w") as f:
            f.write(out)


if __name__ == "__main__":
    main(sys.argv)
