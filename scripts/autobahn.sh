#!/usr/bin/env bash
# The Autobahn WebSocket testsuite (wstest), installed privately and driven by the project.
#
#   scripts/autobahn.sh install                      make the Python 2.7 virtualenv (idempotent, quiet when done)
#   scripts/autobahn.sh server URL CASES OUTDIR      fuzzingclient against our server at URL (ws://host:port/path);
#                                                    CASES is a comma list of globs ("1.*,2.*" or "*");
#                                                    exits non-zero if any case's behavior is FAILED
#   scripts/autobahn.sh client-server PORT OUTDIR [CASES]
#                                                    fuzzingserver on 127.0.0.1:PORT for testing our client
#                                                    (CASES as above, default "*"); runs in the foreground
#                                                    until killed, reports into OUTDIR
#   scripts/autobahn.sh summary OUTDIR               re-read OUTDIR/index.json, print the summary, same exit rule
#
# autobahntestsuite runs only under Python 2.7: the virtualenv is made from pyenv's 2.7.18
# (../shared/notes/FACTS.md). Its home is $INSTAVERSE_AUTOBAHN_HOME, by default
# ~/.cache/instaverse/autobahn, shared by every clone on the machine. Every package is pinned:
# PyPI's newest releases dropped Python 2 long ago.
set -euo pipefail

AB_HOME="${INSTAVERSE_AUTOBAHN_HOME:-$HOME/.cache/instaverse/autobahn}"
VENV="$AB_HOME/venv"
WSTEST="$VENV/bin/wstest"
STAMP="$AB_HOME/installed.v3"

log() { printf 'autobahn: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# The pins that resolved and ran on Debian 12 with CPython 2.7.18. The first three are the
# documented ones; the rest are their dependencies at the last release that supports Python 2.
PINS=(
    autobahntestsuite==25.10.1 autobahn==0.10.9 Twisted==19.10.0
    txaio==2.1.0 incremental==16.10.1 six==1.16.0 "zope.interface==4.6.0"
    pyOpenSSL==19.1.0 cryptography==3.3.2 service-identity==18.1.0 klein==17.10.0
    Jinja2==2.11.3 MarkupSafe==1.1.1 Werkzeug==1.0.1 unittest2==1.1.0
    attrs==21.4.0 Automat==20.2.0 constantly==15.1.0 hyperlink==21.0.0 PyHamcrest==1.10.1
    idna==2.10 typing==3.10.0.0 linecache2==1.0.0 traceback2==1.4.0 argparse==1.4.0
    pyasn1==0.4.8 pyasn1-modules==0.2.8 cffi==1.15.1 pycparser==2.21 enum34==1.1.10
    ipaddress==1.0.23 setuptools==44.0.0
)

python27() {
    local root
    command -v pyenv >/dev/null 2>&1 || die "pyenv not found (FACTS.md: the image's pyenv holds CPython 2.7.18)"
    root="$(pyenv root)"
    [ -x "$root/versions/2.7.18/bin/python" ] || die "no CPython 2.7.18 under $root/versions"
    echo "$root/versions/2.7.18/bin/python"
}

cmd_install() {
    if [ -f "$STAMP" ] && [ -x "$WSTEST" ] && "$VENV/bin/python" -c 'import autobahntestsuite' 2>/dev/null; then
        return 0
    fi
    local py; py="$(python27)"
    mkdir -p "$AB_HOME"
    log "installing into $VENV (once per machine)"
    "$py" -m pip install -q --disable-pip-version-check "virtualenv<20.22"
    rm -rf "$VENV"
    "$py" -m virtualenv -q "$VENV"
    # --no-deps: the pins above are the whole closure (pip 20's resolver would otherwise
    # pull newer releases that conflict with the suite's own pins).
    "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps "${PINS[@]}" 2>&1 \
        | grep -v -e DEPRECATION -e 'legacy dependency resolver' >&2 || true
    "$VENV/bin/pip" check >/dev/null 2>&1 || log "warning: pip check reports conflicts (see $VENV/bin/pip check)"
    "$WSTEST" --help >/dev/null 2>&1 || die "wstest does not start after install"
    touch "$STAMP"
    log "installed"
}

# summary OUTDIR: prints FAILED / NON-STRICT / INFORMATIONAL / ... counts per top-level case
# category from OUTDIR/index.json, lists every FAILED case, and exits 1 if there is one.
cmd_summary() {
    local out=$1
    [ -f "$out/index.json" ] || die "no report at $out/index.json"
    python3 - "$out/index.json" <<'PY'
import json, sys
from collections import defaultdict
index = json.load(open(sys.argv[1]))
failed = []
by_cat = defaultdict(lambda: defaultdict(int))
for agent, cases in sorted(index.items()):
    for case, r in cases.items():
        cat = case.split(".")[0]
        b = r.get("behavior", "?")
        bc = r.get("behaviorClose", "?")
        worst = "FAILED" if "FAILED" in (b, bc) else b
        by_cat[(agent, cat)][worst] += 1
        if worst == "FAILED":
            failed.append((agent, case, b, bc))
def key(c):
    return [int(x) if x.isdigit() else x for x in c.split(".")]
for (agent, cat) in sorted(by_cat, key=lambda k: (k[0], key(k[1]))):
    counts = by_cat[(agent, cat)]
    print("%-24s %4s.*  %s" % (agent, cat, "  ".join("%s=%d" % kv for kv in sorted(counts.items()))))
for agent, case, b, bc in sorted(failed, key=lambda f: (f[0], key(f[1]))):
    print("FAILED %s %s behavior=%s close=%s" % (agent, case, b, bc))
total = sum(sum(c.values()) for c in by_cat.values())
print("%d cases, %d FAILED" % (total, len(failed)))
sys.exit(1 if failed or total == 0 else 0)
PY
}

cmd_server() {
    [ $# -eq 3 ] || die "usage: autobahn.sh server URL CASES OUTDIR"
    local url=$1 cases=$2 out=$3
    cmd_install
    mkdir -p "$out"
    out="$(cd "$out" && pwd)"
    python3 - "$url" "$cases" "$out" > "$out/fuzzingclient.json" <<'PY'
import json, sys
url, cases, out = sys.argv[1:4]
print(json.dumps({
    "options": {"failByDrop": False},
    "outdir": out,
    "servers": [{"agent": "instaverse", "url": url}],
    "cases": [c.strip() for c in cases.split(",") if c.strip()],
    "exclude-cases": [],
    "exclude-agent-cases": {},
}, indent=2))
PY
    (cd "$out" && "$WSTEST" -m fuzzingclient -s "$out/fuzzingclient.json") >"$out/wstest.log" 2>&1 \
        || { tail -20 "$out/wstest.log" >&2; die "wstest failed (log: $out/wstest.log)"; }
    cmd_summary "$out"
}

cmd_client_server() {
    [ $# -eq 2 ] || [ $# -eq 3 ] || die "usage: autobahn.sh client-server PORT OUTDIR [CASES]"
    local port=$1 out=$2 cases=${3:-*}
    cmd_install
    mkdir -p "$out"
    out="$(cd "$out" && pwd)"
    python3 - "$port" "$out" "$cases" > "$out/fuzzingserver.json" <<'PY'
import json, sys
port, out, cases = sys.argv[1:4]
print(json.dumps({
    "url": "ws://127.0.0.1:%s" % port,
    "options": {"failByDrop": False},
    "outdir": out,
    "webport": 0,
    "cases": [c.strip() for c in cases.split(",") if c.strip()],
    "exclude-cases": [],
    "exclude-agent-cases": {},
}, indent=2))
PY
    cd "$out"
    exec "$WSTEST" -m fuzzingserver -s "$out/fuzzingserver.json"
}

case "${1:-}" in
    install) shift; cmd_install "$@" ;;
    server) shift; cmd_server "$@" ;;
    client-server) shift; cmd_client_server "$@" ;;
    summary) shift; cmd_summary "$@" ;;
    *) die "usage: autobahn.sh install | server URL CASES OUTDIR | client-server PORT OUTDIR [CASES] | summary OUTDIR" ;;
esac
