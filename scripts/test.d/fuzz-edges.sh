#!/usr/bin/env bash
# libFuzzer run of the parsers at the product's edges (Fuzz/Edges: JWT and its flat JSON,
# redaction, Base64URL, the scrypt string, the JWT key list, Event.decode, AMQPEndpoint,
# notifyd's client messages and upgrade query, ServiceKit's body validators, mentions, image
# sniffing and the query-parameter check) for FUZZ_SECONDS (default 30); non-zero on a crash, a leak or a timeout,
# the input kept under fuzz-out/. FUZZ_EDGES_MODES=0,1,2 restricts the modes (Main.swift).
#
# HTTP1, CryptoBytes, Tokens (with -enable-testing, for the internal scrypt parser and FlatJSON) and
# Events are built as separate instrumented modules; the rest is compiled into one module
# named Web, whose only stand-in is HTTPError (Fuzz/Edges/WebStub.swift).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
OUT="${FUZZ_OUT:-$ROOT/.build/fuzz-edges}"
M="$OUT/modules"
mkdir -p "$OUT" "$M"
FLAGS=(-sanitize=fuzzer,address -parse-as-library -O -swift-version 6)

build_module() {  # name, extra flags..., then sources after --
    local name=$1; shift
    local extra=()
    while [ "$1" != -- ]; do extra+=("$1"); shift; done; shift
    swiftc "${FLAGS[@]}" "${extra[@]}" -wmo -module-name "$name" -emit-module -emit-module-path "$M/$name.swiftmodule" \
        -c -o "$M/$name.o" "$@"
}

echo "fuzz-edges: building"
{
    build_module HTTP1 -- Sources/HTTP1/*.swift &&
    build_module CryptoBytes -I Sources/COpenSSL -- Sources/CryptoBytes/*.swift &&
    build_module Tokens -enable-testing -I "$M" -I Sources/COpenSSL -- Sources/Tokens/*.swift &&
    build_module Events -- Sources/Events/*.swift &&
    swiftc "${FLAGS[@]}" -wmo -module-name Web -I "$M" -I Sources/COpenSSL -I Sources/CRabbitMQ \
        Fuzz/Edges/*.swift \
        Sources/ServiceKit/Runtime/JSONBody.swift Sources/ServiceKit/Runtime/Mentions.swift \
        Sources/ServiceKit/Runtime/StringTrimming.swift Sources/ServiceKit/Runtime/TextField.swift \
        Sources/ServiceKit/Auth/AuthFields.swift \
        Sources/ServiceKit/Story/StoryFields.swift Sources/ServiceKit/Social/CommentFields.swift \
        Sources/ServiceKit/Story/ImageStore.swift \
        Sources/NotifyCore/ClientMessage.swift Sources/NotifyCore/SessionAuth.swift \
        Sources/AMQP/AMQPEndpoint.swift Sources/AMQP/AMQPError.swift \
        "$M/HTTP1.o" "$M/CryptoBytes.o" "$M/Tokens.o" "$M/Events.o" -lcrypto -lrabbitmq -o "$OUT/fuzz-edges"
} >"$OUT/build.log" 2>&1 || { grep -v "Cannot export local symbol" "$OUT/build.log"; echo "fuzz-edges: build FAILED"; exit 1; }

exec scripts/fuzz-run.sh fuzz-edges "$OUT/fuzz-edges" 9000 Fuzz/Edges/corpus
