# Instaverse real-time layer. `make run` and `make test` work alone on a fresh Debian 12.
SHELL := /bin/bash
SWIFT ?= swift
CONFIG ?= debug
PREFIX ?= /usr/local
DESTDIR ?=

.PHONY: all deps build release run stop test clean fuzz conformance bench

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

clean:
	-scripts/run.sh stop
	rm -rf .build .run
