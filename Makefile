# The two set-up commands of the README: `make demo` and `make test`. Each installs what it needs.
SWIFT ?= swift
# A failed build must fail its recipe, though its output goes through `tee`.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
BUILD_LOG := .build/build.log

.PHONY: demo test build lint deps test-deps clean

deps:
	@scripts/install-deps.sh

test-deps:
	@scripts/install-deps.sh --test

build: deps
	@mkdir -p .build
	$(SWIFT) build 2>&1 | tee $(BUILD_LOG)
	@scripts/check-warnings.sh $(BUILD_LOG)

## Build, then diff two sample trees, apply the layer, verify the round trip, print the descriptor.
demo: build
	.build/debug/strata demo

lint:
	$(SWIFT) format lint --strict --recursive Package.swift Sources Tests Fuzz/Package.swift Fuzz/Sources

## Lint, check the module graph, build with no warnings and no undeclared import, run every suite.
test: test-deps lint
	scripts/check-deps.py
	@mkdir -p .build
	$(SWIFT) build --build-tests --explicit-target-dependency-import-check error 2>&1 | tee $(BUILD_LOG)
	@scripts/check-warnings.sh $(BUILD_LOG)
	$(SWIFT) test --skip-build

clean:
	rm -rf .build

.PHONY: fuzz fuzz-smoke

## Fuzz every harness (Fuzz/, FUZZING.md) for FUZZ_SECONDS each (default 300); runs as root.
fuzz: test-deps
	scripts/fuzz.sh

## CI's smoke of the harnesses: planted crashes must be reported, then a short run of each.
fuzz-smoke: test-deps
	scripts/fuzz.sh --smoke
