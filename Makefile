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
CORS_ORIGIN_REGEX ?= ^https://(www\\.)?instaverse\\.example$$
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

# install: release binaries, units (paths filled in), the gateway config and example
# environment files. Honors PREFIX, DESTDIR, BINDIR, SYSCONFDIR, UNITDIR.
install:
	@[ "$(NOBUILD)" = 1 ] || $(MAKE) release
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/instaverse
	for b in $(BINARIES); do install -m 0755 "$$($(SWIFT) build -c $(CONFIG_INSTALL) --show-bin-path)/$$b" $(DESTDIR)$(BINDIR)/$$b; done
	for u in $(UNITS); do sed -e 's#@BINDIR@#$(BINDIR)#g' -e 's#@SYSCONFDIR@#$(SYSCONFDIR)#g' systemd/$$u.in > $(DESTDIR)$(UNITDIR)/$$u; chmod 0644 $(DESTDIR)$(UNITDIR)/$$u; done
	install -m 0644 systemd/instaverse.target $(DESTDIR)$(UNITDIR)/instaverse.target
	sed -e 's#127.0.0.1:@PORT@#$(GATEWAY_LISTEN)#' -e 's#@STATE@#/var/cache/instaverse-gateway#g' \
	    -e 's#@AUTH_UPSTREAM@#127.0.0.1:5001#' -e 's#@STORY_UPSTREAM@#127.0.0.1:5002#' \
	    -e 's#@SOCIAL_UPSTREAM@#127.0.0.1:5003#' -e 's#@NOTIFY_UPSTREAM@#127.0.0.1:5004#' \
	    -e 's#@CORS_ORIGIN_REGEX@#$(CORS_ORIGIN_REGEX)#' gateway/nginx.conf.in > $(DESTDIR)$(SYSCONFDIR)/instaverse/gateway.conf
	for e in systemd/env/*.env; do install -m 0640 $$e $(DESTDIR)$(SYSCONFDIR)/instaverse/$$(basename $$e).example; done

uninstall:
	for b in $(BINARIES); do rm -f $(DESTDIR)$(BINDIR)/$$b; done
	for u in $(UNITS) instaverse.target; do rm -f $(DESTDIR)$(UNITDIR)/$$u; done
	rm -f $(DESTDIR)$(SYSCONFDIR)/instaverse/gateway.conf $(DESTDIR)$(SYSCONFDIR)/instaverse/*.env.example
	-rmdir $(DESTDIR)$(SYSCONFDIR)/instaverse 2>/dev/null
