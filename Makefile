# skiff build and test entry points. `make test` is what CI and the README run.
SHELL := /bin/bash
NODE_GYP := npx --no-install node-gyp
GYP_FLAGS := $(if $(wildcard /usr/include/node/node_api.h),--nodedir=/usr,)

.PHONY: all build native ts bundle dist man deb test test-checkout test-unit demo clean bench
VERSION := $(shell node -p "require('./package.json').version")

all: build

build: native ts bundle

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

native: node_modules/.installed
	cd addon && $(NODE_GYP) configure $(GYP_FLAGS) >/dev/null && $(NODE_GYP) build $(GYP_FLAGS) -j 2 >/dev/null
	mkdir -p dist
	cp addon/build/Release/skiff_native.node addon/build/Release/skiff_layer.node addon/build/Release/skiff-shim addon/build/Release/skiff-init dist/

ts: node_modules/.installed src/compose/schema-validate.generated.ts src/kube/schema-validate.generated.ts
	npx --no-install tsc -p tsconfig.json

# The compose-spec JSON schema compiled by ajv into a validator at build time (run-time compile: ~300 ms).
src/compose/schema-validate.generated.ts: src/compose/compose-spec.json scripts/compose-schema.mjs node_modules/.installed
	node scripts/compose-schema.mjs

# The validators of the Kubernetes kinds skiff reads and writes, from kubernetes-models (a dev dependency).
src/kube/schema-validate.generated.ts: scripts/kube-schema.mjs node_modules/.installed
	node scripts/kube-schema.mjs

# One CommonJS bundle (dist/skiff.cjs, whitespace minified) plus V8's code cache for it (dist/skiff.cjs.cache), which
# bin/skiff.cjs compiles the bundle with: no parsing on start-up. Modules reached through import()
# (every command's domain modules, loaded by its handler, see src/cli/registry.ts) are in the bundle but only
# evaluated when used. The cache is remade with every bundle (the launcher ignores an older one).
bundle: ts
	rm -rf dist/chunks dist/skiff.mjs dist/skiff.cjs.cache
	@# also dist/skiff-schemas.cjs: compose's and kube's generated validators, loaded by those commands only (scripts/bundle.mjs)
	node scripts/bundle.mjs $(VERSION)
	node scripts/bundle-interop.cjs dist/skiff.cjs
	@# a script compiled by vm has no loader for import(): the bundle must not keep one (import node: builtins statically)
	@! grep -n '[^A-Za-z0-9_$$.]import(' dist/skiff.cjs dist/skiff-schemas.cjs || { echo 'dist/skiff.cjs: import() of an external module' >&2; exit 1; }
	@# bin/skiff.cjs reads the bundle as latin1 (faster than utf8): it must be ASCII (write \u escapes in regexes, ASCII in kept comments)
	@! LC_ALL=C grep -n '[^ -~	]' dist/skiff.cjs dist/skiff-schemas.cjs || { echo 'dist/skiff.cjs: non-ASCII bytes (lines above)' >&2; exit 1; }
	SKIFF_WRITE_CODE_CACHE=1 node bin/skiff.cjs

# The single executable dist/skiff (ARCHITECTURE.md "The shipped form"): this node with bin/sea.cjs, the
# bundle, its code cache and the native parts in it. Copied alone anywhere, it runs without node.
dist: build
	node scripts/make-sea.mjs

# The man page dist/skiff.1 from the help texts (the command descriptors): scripts/make-man.mjs
man: build
	node scripts/make-man.mjs

# skiff_$(VERSION)_amd64.deb from dist/skiff (scripts/make-deb.sh: files, man page, completions, dependencies, systemd units)
deb: dist man
	bash scripts/make-deb.sh

# `make test` (CI, the README): the whole suite against the shipped form, the single executable dist/skiff
# (scripts/test.sh: SKIFF_TEST_BIN), rootful and rootless; then the test files of what only the checkout's
# launcher bin/skiff does (its trained code cache, its native `ps`) once more against bin/skiff.
test: dist
	SKIFF_TEST_BIN=dist/skiff SKIFF_TEST_CHECKOUT="code-cache lifecycle" bash scripts/test.sh

# the whole suite against the checkout's bin/skiff (no single executable to make)
test-checkout: build
	bash scripts/test.sh

test-unit: ts native
	node --test --test-concurrency=1 dist/test/unit/

demo: build
	bash scripts/demo.sh

bench: build
	bash bench/run.sh; bash bench/pull.sh; bash bench/build.sh

clean:
	rm -rf dist addon/build src/compose/schema-validate.generated.ts src/kube/schema-validate.generated.ts
