# Short verbs over CMake (see CMakePresets.json) and the test cluster scripts.
#   make deps        install Debian packages, build the control plane (cached)
#   make             debug build
#   make test        everything CI runs: a release build (warnings as errors at
#                    -O3), the clang libFuzzer build, lint (clang-format check,
#                    clang-tidy, cppcheck), then an ASan+UBSan build with unit, fuzz-corpus,
#                    smoke, integration and e2e tests on a real local control
#                    plane, then the unit tests again under valgrind
#   make demo        local control plane + CRDs + operator + an example run
#   make cluster-up / cluster-down   a control plane in build/cluster for you
#   make image       the operator image with buildah (no registry, no daemon),
#                    as an OCI archive in build/image (operator/image.sh)
#   make lint / fmt / fuzz / bench   (lint fails on unformatted code: make fmt)
#   make test-crash [SCENARIOS=a,b] [SEED=n]   the operator SIGKILLed at every
#                    write of every crash scenario, then restarted: the
#                    invariants must hold at each point (~25 min; a slice of it
#                    is in make test: e2e.crash_sweep_serial)
#   make soak [DURATION=1h] [RATE=0.5] [SEED=n] [CHAOS=kind,...]   chaos soak
#                    (not in CI): two leader-elected replicas, runs created at
#                    RATE per second for DURATION while seeded chaos kills the
#                    leader, restarts the control plane, compacts etcd, injects
#                    429s and cut watches; invariants, outcomes, RSS
#                    (test/soak/README.md)
#   make test-mutations [ONLY=id,...] [KEEP_GOING=1] [FROM=head]   one-line
#                    mutations of the product, each must fail its tests (slow,
#                    not part of make test: test/mutations/README.md)
SHELL := /bin/bash
JOBS ?= $(shell nproc)
CLUSTER ?= $(CURDIR)/build/cluster
FUZZ_SECONDS ?= 60
SOURCES = $(shell git ls-files 'src/*.[ch]' 'operator/*.[ch]' 'test/*.[ch]' 'bench/*.[ch]' 2>/dev/null)

.PHONY: all build deps test test-asan test-memcheck test-mutations test-crash soak demo demo-down image cluster-up cluster-down lint fmt fuzz fuzz-build bench release clean

all: build

deps:
	@.ci/deps.sh

build: deps
	cmake --preset debug >/dev/null
	cmake --build build/debug -j$(JOBS)

release: deps
	cmake --preset release >/dev/null
	cmake --build build/release -j$(JOBS)

# The release build comes first: -O3 finds warnings the debug builds do not.
test: deps
	$(MAKE) release
	@# The test hooks (the crash hook, the schedules' test clock) are for
	@# test builds: not a trace of them in the release binary.
	@! grep -qaE 'RUNBOOK_CRASH|RUNBOOK_TEST_CLOCK' build/release/runbook-operator || \
	  { echo "build/release/runbook-operator contains a test-only hook" >&2; exit 1; }
	$(MAKE) fuzz-build
	$(MAKE) lint
	$(MAKE) test-asan
	$(MAKE) test-memcheck

test-asan:
	cmake --preset asan >/dev/null
	cmake --build build/asan -j$(JOBS)
	ctest --test-dir build/asan --output-on-failure -j$(JOBS)

test-memcheck:
	cmake --preset memcheck >/dev/null
	cmake --build build/memcheck -j$(JOBS)
	ctest --test-dir build/memcheck --output-on-failure -j$(JOBS) -L memcheck

# Crash at every write and every 5th watch event of every scenario
# (test/crash/crash.py, issue 10):
# an ASan build with the crash hook, a control plane of its own.
CRASH_CLUSTER ?= $(CURDIR)/build/crash-cluster
test-crash: deps
	cmake --preset asan >/dev/null
	cmake --build build/asan -j$(JOBS) --target runbook-operator
	test/cluster/down.sh $(CRASH_CLUSTER) >/dev/null 2>&1 || true
	RUNBOOK_REAL_NODE=0 test/cluster/up.sh $(CRASH_CLUSTER) 1
	test/operator.sh start $(CRASH_CLUSTER) build/asan >/dev/null && test/operator.sh stop $(CRASH_CLUSTER) build/asan
	python3 test/crash/crash.py --cluster $(CRASH_CLUSTER) --bindir build/asan --stride 1 \
	  --jobs $(if $(CRASH_JOBS),$(CRASH_JOBS),3) $(if $(SCENARIOS),--scenarios $(SCENARIOS)) $(if $(SEED),--seed $(SEED)); \
	  rc=$$?; test/cluster/down.sh $(CRASH_CLUSTER) >/dev/null; exit $$rc

# Chaos soak (test/soak/soak.py, issue 10): an ASan operator, a control plane
# of its own, stopped whatever happens.
SOAK_CLUSTER ?= $(CURDIR)/build/soak-cluster
DURATION ?= 5m
RATE ?= 0.5
soak: deps
	cmake --preset asan >/dev/null
	cmake --build build/asan -j$(JOBS) --target runbook-operator
	test/cluster/down.sh $(SOAK_CLUSTER) >/dev/null 2>&1 || true; rm -rf $(CURDIR)/build/soak
	trap 'test/cluster/down.sh $(SOAK_CLUSTER) >/dev/null' EXIT; \
	  RUNBOOK_REAL_NODE=0 test/cluster/up.sh $(SOAK_CLUSTER) 3 && \
	  test/operator.sh start $(SOAK_CLUSTER) build/asan >/dev/null && test/operator.sh stop $(SOAK_CLUSTER) build/asan && \
	  python3 test/soak/soak.py --cluster $(SOAK_CLUSTER) --bindir build/asan --duration $(DURATION) --rate $(RATE) \
	    $(if $(SEED),--seed $(SEED)) $(if $(CHAOS),--chaos $(CHAOS)) --out $(CURDIR)/build/soak

test-mutations: deps
	python3 test/mutations/run.py --jobs $(JOBS) --test-jobs $(if $(TEST_JOBS),$(TEST_JOBS),2) \
	  --source $(if $(FROM),$(FROM),worktree) $(if $(ONLY),--only $(ONLY)) $(if $(KEEP_GOING),--keep-going)

demo: release
	bash operator/demo.sh $(CLUSTER)-demo build/release

demo-down:
	-@[ -f $(CLUSTER)-demo/operator.pid ] && kill $$(cat $(CLUSTER)-demo/operator.pid) 2>/dev/null; rm -f $(CLUSTER)-demo/operator.pid
	test/cluster/down.sh $(CLUSTER)-demo

# The base image is debootstrapped once and cached (operator/image.sh).
image: deps
	operator/image.sh build/image

cluster-up: deps
	test/cluster/up.sh $(CLUSTER)

cluster-down:
	test/cluster/down.sh $(CLUSTER)

lint: deps
	clang-format --dry-run -Werror $(SOURCES)
	cmake --preset debug >/dev/null
	cmake --build build/debug -j$(JOBS)
	clang-tidy -p build/debug --quiet $(filter %.c,$(SOURCES))
# varFuncNullUB (a NULL ending a variadic list is UB where NULL is a plain 0):
# those functions are __attribute__((sentinel)), so gcc and clang (-Werror)
# already reject any end marker that is not a null pointer.
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	  --inline-suppr --std=c11 -Isrc --suppress=missingIncludeSystem --suppress=varFuncNullUB \
	  $(filter src/%.c operator/%.c,$(SOURCES))

fmt:
	clang-format -i $(SOURCES)

# The fuzz tree is the one clang build (libFuzzer): make test builds it so
# clang's warnings (-Wformat-nonliteral and others gcc does not give) fail CI.
fuzz-build: deps
	cmake --preset fuzz >/dev/null
	cmake --build build/fuzz -j$(JOBS)

fuzz: fuzz-build
	@for f in build/fuzz/test/fuzz_*; do \
	  n=$${f##*/fuzz_}; mkdir -p build/fuzz/corpus/$$n; \
	  echo "== $$n ($(FUZZ_SECONDS)s)"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) build/fuzz/corpus/$$n test/fuzz/corpus/$$n || exit 1; \
	done

bench: release
	@for b in build/release/bench/bench_*; do echo "== $$b"; $$b || exit 1; done

# The webhook benchmark: its own cluster, the release operator, signature
# cost, p99 at 50/s, deliveries/s vs direct creates/s (bench/README.md).
.PHONY: bench-webhook
bench-webhook:
	bench/webhook.sh

# The peer benchmark: Runbook beside Argo Workflows' workflow-controller
# (built from its Go module, cached) on one local control plane of its own,
# alternating trials, one table of medians with ratios (bench/README.md,
# "Peers"; ~17 min, not part of make test). TRIALS=n rounds (default 2).
.PHONY: bench-peers
bench-peers:
	bench/peers/run.sh $(if $(TRIALS),--trials $(TRIALS))

clean:
	rm -rf build
