# skiff build and test entry points. `make test` is what CI and the README run.
SHELL := /bin/bash
NODE_GYP := npx --no-install node-gyp
GYP_FLAGS := $(if $(wildcard /usr/include/node/node_api.h),--nodedir=/usr,)

.PHONY: all build native ts bundle test test-unit demo clean bench

all: build

build: native ts bundle

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

native: node_modules/.installed
	cd addon && $(NODE_GYP) configure $(GYP_FLAGS) >/dev/null && $(NODE_GYP) build $(GYP_FLAGS) -j 2 >/dev/null
	mkdir -p dist
	cp addon/build/Release/skiff_native.node addon/build/Release/skiff-shim addon/build/Release/skiff-init dist/

ts: node_modules/.installed
	npx --no-install tsc -p tsconfig.json

# One file on the run path: bundling keeps module resolution off `skiff run`'s start-up.
bundle: ts
	npx --no-install esbuild src/cli/main.ts --bundle --platform=node --format=esm --target=node20 \
	  --outfile=dist/skiff.mjs --log-level=warning \
	  --banner:js="import{createRequire as __cr}from'module';const require=__cr(import.meta.url);"

test: build
	bash scripts/test.sh

test-unit: ts native
	node --test --test-concurrency=1 dist/test/unit/

demo: build
	bash scripts/demo.sh

bench: build
	bash bench/run.sh; bash bench/pull.sh; bash bench/build.sh

clean:
	rm -rf dist addon/build
