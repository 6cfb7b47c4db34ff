# Instaverse real-time layer. `make run` and `make test` work alone on a fresh Debian 12.
SHELL := /bin/bash
SWIFT ?= swift
CONFIG ?= debug
CONFIG_INSTALL ?= release
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
BINARIES := notifyd auth-service story-service social-service instaverse-load
GATEWAY_LISTEN ?= 8000
DATADIR ?= $(PREFIX)/share/instaverse
# Browser origins: one list for the gateway's CORS and notifyd's WebSocket Origin check
# (exact origins, comma-separated), plus the gateway's own public origin, always allowed.
ALLOWED_ORIGINS ?= https://instaverse.example
PUBLIC_ORIGIN ?= https://instaverse.example
ORIGINS_ENV = INSTAVERSE_ALLOWED_ORIGINS='$(ALLOWED_ORIGINS)' INSTAVERSE_PUBLIC_ORIGIN='$(PUBLIC_ORIGIN)'
UNITS := notifyd.service auth-service.service story-service.service social-service.service instaverse-gateway.service

.PHONY: all deps build release run stop test clean fuzz conformance bench install uninstall

all: build

deps:
	@scripts/deps.sh

build: deps
	$(SWIFT) build -c $(CONFIG)

release: deps
	$(SWIFT) build -c release

run: deps
	@scripts/run.sh

stop:
	@scripts/run.sh stop

test: deps
	$(SWIFT) build --build-tests
	scripts/test.sh

# WebSocket conformance: Autobahn 1.*-13.* against ws-echo and the fuzzingserver against our
# client; reports in reports/autobahn/{server,client}; fails on any FAILED case.
conformance: deps
	scripts/conformance.sh all

# The BENCHMARKS.md figures (release builds, server on core 0, load on core 1, medians of 3).
bench: deps
	CONNECTIONS=10000 scripts/bench/storm.sh
	TWO=1 CONNECTIONS=40000 scripts/bench/storm.sh
	RATE=5000 scripts/bench/deliver.sh
	CONNECTIONS=10000 scripts/bench/peers.sh

clean:
	-scripts/run.sh stop
	rm -rf .build .run

# install: release binaries, units (paths filled in), the gateway config, the OpenAPI file it
# serves and example environment files. Honors PREFIX, DESTDIR, BINDIR, SYSCONFDIR, UNITDIR,
# DATADIR, GATEWAY_LISTEN, ALLOWED_ORIGINS and PUBLIC_ORIGIN. notifyd.env.example gets the
# same merged origin list the gateway config was rendered with.
install:
	@[ "$(NOBUILD)" = 1 ] || $(MAKE) release
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/instaverse $(DESTDIR)$(DATADIR)
	for b in $(BINARIES); do install -m 0755 "$$($(SWIFT) build -c $(CONFIG_INSTALL) --show-bin-path)/$$b" $(DESTDIR)$(BINDIR)/$$b; done
	for u in $(UNITS); do sed -e 's#@BINDIR@#$(BINDIR)#g' -e 's#@SYSCONFDIR@#$(SYSCONFDIR)#g' systemd/$$u.in > $(DESTDIR)$(UNITDIR)/$$u; chmod 0644 $(DESTDIR)$(UNITDIR)/$$u; done
	install -m 0644 systemd/instaverse.target $(DESTDIR)$(UNITDIR)/instaverse.target
	install -m 0644 docs/openapi.json $(DESTDIR)$(DATADIR)/openapi.json
	sed -e 's#127.0.0.1:@PORT@#$(GATEWAY_LISTEN)#' gateway/nginx.conf.in | $(ORIGINS_ENV) python3 scripts/render-nginx.py - \
	    $(DESTDIR)$(SYSCONFDIR)/instaverse/gateway.conf PORT=$(GATEWAY_LISTEN) STATE=/var/cache/instaverse-gateway DOCS=$(DATADIR) \
	    AUTH_UPSTREAM=127.0.0.1:5001 STORY_UPSTREAM=127.0.0.1:5002 SOCIAL_UPSTREAM=127.0.0.1:5003 NOTIFY_UPSTREAM=127.0.0.1:5004
	for e in systemd/env/*.env; do install -m 0640 $$e $(DESTDIR)$(SYSCONFDIR)/instaverse/$$(basename $$e).example; done
	origins=$$($(ORIGINS_ENV) python3 scripts/render-nginx.py --origins) && \
	    sed -i "s#^INSTAVERSE_ALLOWED_ORIGINS=.*#INSTAVERSE_ALLOWED_ORIGINS=$$origins#" $(DESTDIR)$(SYSCONFDIR)/instaverse/notifyd.env.example

uninstall:
	for b in $(BINARIES); do rm -f $(DESTDIR)$(BINDIR)/$$b; done
	for u in $(UNITS) instaverse.target; do rm -f $(DESTDIR)$(UNITDIR)/$$u; done
	rm -f $(DESTDIR)$(SYSCONFDIR)/instaverse/gateway.conf $(DESTDIR)$(SYSCONFDIR)/instaverse/*.env.example
	rm -f $(DESTDIR)$(DATADIR)/openapi.json
	-rmdir $(DESTDIR)$(DATADIR) 2>/dev/null
	-rmdir $(DESTDIR)$(SYSCONFDIR)/instaverse 2>/dev/null
