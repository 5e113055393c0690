# gosentinel build and test entry points. CI runs `make test` (see .ci/run).

SHELL    := /bin/bash
# Go: go.mod's version or newer. Every machine has it in /usr/local/go/bin,
# which PATH may not name: it goes first on PATH when it exists (as in
# .ci/run). check-go, a prerequisite of every target that runs go, stops
# with one line when no such go is found.
GO_MIN   := $(shell sed -n 's/^go //p' go.mod)
GO_DIR   := /usr/local/go/bin
ifneq ($(wildcard $(GO_DIR)/go),)
export PATH := $(GO_DIR):$(PATH)
endif
GO       ?= go
BIN_DIR  := bin
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)

# Fuzz targets run by `make test`, as <FuzzFunc>:<package>, each for
# FUZZ_TIME. Keep this list equal to the fuzz functions that exist: a listed
# target that is missing fails `make fuzz` (nothing is skipped silently).
# FUZZ_TIME is an execution count, not a duration: Go 1.26's fuzz
# coordinator can report a spurious "context deadline exceeded" failure when
# a duration-based -fuzztime ends while a worker is mid-input
# (golang/go#75804, fixed in Go 1.27); a count has no deadline to race.
# 150000 executions take 9-13 s per target here. FUZZ_MINIMIZE bounds the
# minimizing of each new interesting input the same way (a count): at Go's
# default of 60 s, FuzzDispatch stood still for up to a minute at a time
# while it minimized one (its 150000 executions took 15-95 s across CI
# runs); a crasher is saved as found and replays the same. A count bounds
# executions, not time, so an input that is slow to run multiplies it: a
# 4 KB module-config name took FuzzParse about 250 ms an execution under
# the fuzzer's instrumentation (a rewrite lower-cased every kept name once
# per standard config) and its minimizing held the phase still for four
# minutes in one CI run. A slow input is a defect of the code under test.
FUZZ_TARGETS := FuzzParse:./config/ FuzzServe:./sentinel/ FuzzDispatch:./sentinel/ \
                FuzzAuthenticate:./internal/peer/ FuzzRecords:./internal/peer/ \
                FuzzReadValue:./monitor/ FuzzReplyParser:./monitor/ FuzzParseHello:./monitor/ \
                FuzzInfoText:./monitor/ FuzzReleasable:./internal/codepages/ \
                FuzzACLFile:./sentinel/ FuzzPreserveStrings:./quorum/
FUZZ_TIME    ?= 150000x
FUZZ_MINIMIZE ?= 1000x

# Debian packages the tests need: the reference redis-sentinel and the data
# nodes, redis-cli and redis-py for the client tests, tcl for the official
# Sentinel suite, tmux for terminal checks, gcc for the race detector,
# nodejs for the ioredis client test (and npm, which deps installs only
# where nodejs lacks it), iptables and iproute2 for the network lab
# (internal/netlab: network namespaces, a bridge, iptables faults) of
# TestLab, TestNetlabPartition and bench-partition.
DEB_PACKAGES := redis-server redis-sentinel redis-tools python3-redis tcl tmux gcc g++ make libc6-dev nodejs iptables iproute2

# The group simulation (internal/group): seeds per set size (3 and 5
# sentinels) of the simulation on raft's in-memory transport, and of the
# deterministic model. `make test` runs SIM_SEEDS, `make sim` SIM_LONG_SEEDS.
# The seeds mostly wait on Raft's timers, so many run at once.
SIM_SEEDS        ?= 150
SIM_MODEL_SEEDS  ?= 3000
SIM_LONG_SEEDS   ?= 1500
SIM_LONG_MODEL   ?= 100000
SIM_PARALLEL     ?= 32

.PHONY: help check-go build test deps vet fmt fmt-check fuzz demo bench bench-fleet chaos roll compat sim sim-short image clean

# The binary as the image ships it (deploy/image/build.sh): static, so the
# benchmarks measure what runs in production. A cgo build maps libc and the
# dynamic loader besides: 1.5 MB more resident at 1000 masters, the same CPU.
build: check-go ## bin/gosentinel, static (the default target)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN_DIR)/gosentinel ./cmd/gosentinel

# One line per target: the text after '## ' on its rule line.
help: ## this list
	@grep -E '^[a-z][a-z-]*:.*## ' $(firstword $(MAKEFILE_LIST)) | \
		sed -E 's/^([a-z-]+):.*## /\1\t/' | awk -F'\t' '{printf "  make %-12s %s\n", $$1, $$2}'

# The local toolchain's version (GOTOOLCHAIN=local: an older go would
# otherwise try to download a newer one) against go.mod's.
check-go: ## stop unless Go go.mod's version or newer is found
	@v=$$(GOTOOLCHAIN=local $(GO) env GOVERSION 2>/dev/null); v=$${v%% *}; v=$${v#go}; \
	if [ -z "$$v" ] || [ "$$(printf '%s\n' '$(GO_MIN)' "$$v" | sort -V | head -n 1)" != '$(GO_MIN)' ]; then \
		echo "gosentinel needs Go $(GO_MIN) or newer (go.mod); looked for '$(GO)' in $(GO_DIR) and on PATH, found $${v:+go}$${v:-none}" >&2; \
		exit 1; \
	fi

# The official Sentinel suite runs after the Go tests, on its own: it is
# timing-sensitive like redis' own CI, so it does not share the two cores
# with the race-enabled packages.
# ./test/ is named first so that go test starts it as soon as it is built:
# it is the longest package (about 12 minutes, mostly waiting on processes
# at half a core on average), and listed in order it started only once
# every other package had been built and run beside each other (almost 4
# minutes on a machine with a cold build cache). The others now build and
# run beside it, in go test's second slot.
test: check-go deps vet ## what CI runs: deps, vet, the -race tests, sim-short, fuzz, compat
	$(GO) test -race -timeout 20m ./test/ ./...
	cd deploy && $(GO) test -race -count=1 -timeout 5m ./...
	$(MAKE) sim-short
	$(MAKE) fuzz
	$(MAKE) compat

# The group simulation with hundreds of seeds (without the race detector,
# which the -race run above covers on a few seeds); a failing seed prints
# the command that replays it.
sim-short: check-go ## the group simulation, SIM_SEEDS and SIM_MODEL_SEEDS seeds
	$(GO) test -count=1 -timeout 15m -run 'TestSimulation|TestModel' -parallel $(SIM_PARALLEL) \
		./internal/group/ -sim.seeds $(SIM_SEEDS) -model.seeds $(SIM_MODEL_SEEDS) -v 2>&1 | \
		grep -vE '^(=== (RUN|PAUSE|CONT|NAME)|    --- PASS)' ; \
		test $${PIPESTATUS[0]} -eq 0

# Thousands of seeds: a campaign of its own, not part of make test.
sim: check-go ## the group simulation with thousands of seeds (not in make test)
	$(GO) test -count=1 -timeout 60m -run 'TestSimulation|TestModel' -parallel $(SIM_PARALLEL) \
		./internal/group/ -sim.seeds $(SIM_LONG_SEEDS) -model.seeds $(SIM_LONG_MODEL) -v 2>&1 | \
		grep -vE '^(=== (RUN|PAUSE|CONT|NAME)|    --- PASS)' ; \
		test $${PIPESTATUS[0]} -eq 0

# Installs the missing DEB_PACKAGES (scripts/install-debs.sh: as root it
# installs them, as another user it reports what is missing and which make
# command to run as root: MAKE_GOALS).
deps: ## install the Debian packages and npm modules the tests need (as root)
	@MAKE_GOALS='$(MAKECMDGOALS)' bash scripts/install-debs.sh $(DEB_PACKAGES)
	@# ioredis for test/ioredis_test.go and node-redis for the 8.0 client
	@# matrix, pinned by the committed lockfiles. NodeSource's nodejs bundles
	@# npm (and conflicts with Debian's npm package); Debian's own does not:
	@# Debian's npm only when there is no npm.
	@if [ ! -d test/clients/ioredis/node_modules/ioredis ] || [ ! -d test/clients/noderedis/node_modules/redis ]; then \
		command -v npm >/dev/null 2>&1 || MAKE_GOALS='$(MAKECMDGOALS)' bash scripts/install-debs.sh npm; \
	fi
	@if [ ! -d test/clients/ioredis/node_modules/ioredis ]; then \
		npm ci --prefix test/clients/ioredis --no-audit --no-fund; \
	fi
	@if [ ! -d test/clients/noderedis/node_modules/redis ]; then \
		npm ci --prefix test/clients/noderedis --no-audit --no-fund; \
	fi

vet: check-go ## go vet of both modules and the raft patch check
	$(GO) vet ./...
	cd deploy && $(GO) vet ./...
	bash scripts/check-raft-patch.sh

fmt: check-go ## gofmt -w every Go file
	gofmt -w $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.git/*')

fmt-check: check-go ## list the Go files gofmt would change; fail if any
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "not gofmt-ed:"; echo "$$out"; exit 1; fi

fuzz: check-go ## each FUZZ_TARGETS fuzz target for FUZZ_TIME
	@set -e; for target in $(FUZZ_TARGETS); do \
		name=$${target%%:*}; pkg=$${target#*:}; \
		if ! $(GO) test -list "^$$name$$" $$pkg | grep -qx "$$name"; then \
			echo "fuzz target $$name not found in $$pkg: fix FUZZ_TARGETS in the Makefile" >&2; exit 1; \
		fi; \
		echo "fuzz $$name ($$pkg) for $(FUZZ_TIME)"; \
		$(GO) test -run='^$$' -fuzz="^$$name$$" -fuzztime=$(FUZZ_TIME) -fuzzminimizetime=$(FUZZ_MINIMIZE) $$pkg; \
	done

# Side-by-side benchmark against redis-sentinel (medians and ratios); see
# bench/failover. Not part of `make test`: it takes minutes per run.
# Then issue 9's partition scenario (bench/partition: every node, sentinel
# and client in its own network namespace; needs root) at down-after 1 s
# with an 8 s cut and at 5 s with a 15 s cut.
# Then issue 12's command rate (bench/cmdrate): redis-benchmark -c 50
# against redis-sentinel and gosentinel taking turns, SENTINEL
# GET-MASTER-ADDR-BY-NAME, MASTERS and REPLICAS and PING (bench/cmdrate's
# DefaultWorkloads) at -P 1 (-n 200000) and 16 (-n 3200000: every run lasts
# a few seconds).
BENCH_ARGS     ?= -runs 5
PARTITION_ARGS ?= -runs 5
CMDRATE_ARGS   ?= -rounds 5

bench: check-go deps ## benchmarks against redis-sentinel: failover, partition, command rate, fleet
	bash scripts/bench.sh $(BENCH_ARGS)
	$(GO) build -o $(BIN_DIR)/bench-partition ./bench/partition/cmd
	$(BIN_DIR)/bench-partition $(PARTITION_ARGS) -gosentinel $(BIN_DIR)/gosentinel
	$(BIN_DIR)/bench-partition $(PARTITION_ARGS) -gosentinel $(BIN_DIR)/gosentinel -down-after 5s -cut 15s
	$(GO) build -o $(BIN_DIR)/bench-cmdrate ./bench/cmdrate/cmd
	$(BIN_DIR)/bench-cmdrate $(CMDRATE_ARGS) -gosentinel $(BIN_DIR)/gosentinel
	$(MAKE) bench-fleet

# Issue 12's many masters (bench/fleet): for each of FLEET_SIZES, a fake
# fleet of that many Redis 7.0.15 masters without replicas (tools/fakefleet,
# one process, one port per master) watched by three redis-sentinels, then on
# a fresh fleet by three gosentinels, each configured with every master and
# none of the other sentinels (down-after 5 s): time until every sentinel
# counts 3 sentinels for every master, RSS and CPU per sentinel, false
# +sdown (warm-up and steady), +tilt, detection of a dark (hung) master and
# what the fleet received. Prints issue 12's table with ratios. About 1.5 min
# per size and kind at 100 and 500 masters, 2-4 min at 1000.
# FLEET_ARGS=-ping-period=200ms sets SENTINEL DEBUG ping-period on every
# sentinel of both kinds (detection beyond down-after is up to one period).
# FLEET_ARGS="-scrape 15s" scrapes every gosentinel's /metrics as Prometheus
# would (redis-sentinel has none), so its CPU and RSS include the scrapes.
FLEET_SIZES ?= 100,500,1000
FLEET_ARGS  ?=

bench-fleet: check-go deps build ## many masters (FLEET_SIZES) watched by three sentinels of each kind
	$(GO) build -o $(BIN_DIR)/fakefleet ./tools/fakefleet
	$(GO) build -o $(BIN_DIR)/bench-fleet ./bench/fleet/cmd
	$(BIN_DIR)/bench-fleet -sizes $(FLEET_SIZES) $(FLEET_ARGS) -gosentinel $(BIN_DIR)/gosentinel -fakefleet $(BIN_DIR)/fakefleet

# Issue 9's chaos campaign (bench/chaos): CHAOS_FAULTS seeded faults (SIGKILL
# and SIGSTOP of the master, of the failover leader mid-failover and of a
# replica; {master, sentinel, client} cut; one sentinel cut; one replica cut;
# packet loss; every sentinel restarted) against gosentinel, then the same
# schedule against redis-sentinel, every process in its own network namespace
# (needs root). A line per fault, then the faults that broke each invariant
# side by side; the table goes to $(BIN_DIR)/chaos.md (docs/RESULTS.md).
# Fails if gosentinel broke any invariant. About 6 s per fault for gosentinel
# and 12 s for redis-sentinel: 200 faults take about an hour. `make test` runs
# the short variant (TestChaosShort: one fault of each kind, gosentinel).
# CHAOS_ARGS="-seed N" reproduces a run (the seed is printed).
CHAOS_FAULTS ?= 200
CHAOS_ARGS   ?=

chaos: check-go deps build ## CHAOS_FAULTS seeded faults against both sentinels (root; about an hour)
	$(GO) build -o $(BIN_DIR)/chaos ./bench/chaos/cmd
	$(BIN_DIR)/chaos -faults $(CHAOS_FAULTS) $(CHAOS_ARGS) -gosentinel $(BIN_DIR)/gosentinel -markdown $(BIN_DIR)/chaos.md

# Issue 11's roll in full (test/roll_test.go): three redis-sentinels replaced
# one pod at a time by gosentinels on the files they rewrote (2+1, 1+2, 0+3),
# then pods 2 and 1 rolled back beside the group and rolled forward again to
# one group; at every stage a master SIGKILL (TestRollPodRestarts: with its
# pod's sentinel) and a SENTINEL FAILOVER, each exactly one failover. About
# 8 min. make test runs the short variant (the kill at 3+0, 2+1 and
# rollback-1+2, the other stages without faults).
roll: check-go deps build ## the redis-sentinel to gosentinel roll in full (about 8 min)
	GOSENTINEL_ROLL=full $(GO) test -race -count=1 -timeout 30m -run 'TestRoll' -v ./test/

# The official Sentinel suites against SENTINEL (default: bin/gosentinel;
# SENTINEL=/usr/bin/redis-sentinel runs the reference on 7.0's): Redis
# 7.0.15's (Debian 12's source package) with the 7.0 profile, then Redis
# 8.0.2's (Debian 13's, with redis-server 8.0.2 built from it by
# scripts/build-redis8.sh) with the 8.0 profile, then the command catalog
# (TestCompatibility) of the 8.0 profile against redis-sentinel 8.0.2 (the
# 7.0 one runs in go test). Each suite prints a row per file and "N passed,
# N failed". COMPAT_SUITES=7.0 runs one.
COMPAT_SUITES ?= $(if $(SENTINEL),7.0,7.0 8.0)
compat: check-go deps build ## Redis' own Sentinel suites (7.0, 8.0) and the 8.0 command catalog
	@rc=0; for v in $(COMPAT_SUITES); do \
		echo "== Redis $$v Sentinel suite"; \
		bash test/sentinel-suite.sh REDIS=$$v $(if $(SENTINEL),SENTINEL=$(SENTINEL)) || rc=1; \
		if [ $$v = 8.0 ]; then \
			echo "== the command catalog: the 8.0 profile against redis-sentinel 8.0.2"; \
			ref="$$(bash scripts/build-redis8.sh | tail -n 1)/bin/redis-sentinel"; \
			REFERENCE_SENTINEL=$$ref GOSENTINEL_COMPAT=8.0 $(GO) test -count=1 -run 'TestCompatibility$$' ./test/ || rc=1; \
		fi; \
	done; exit $$rc

# The demo needs only the data nodes and redis-cli: it installs them itself.
DEMO_PACKAGES := redis-server redis-tools

demo: check-go ## a master, two replicas, three gosentinels on 127.0.0.1, then a failover
	@MAKE_GOALS='$(MAKECMDGOALS)' bash scripts/install-debs.sh $(DEMO_PACKAGES)
	$(MAKE) build
	bash scripts/demo.sh

# The container image as an OCI image layout tarball (also `docker load`-able),
# built without a container engine from Debian bookworm packages (cached in
# /var/cache/gosentinel-tools): see deploy/image/build.sh. Its tests
# (tools/mkimage) run in `make test` with the other Go tests.
IMAGE ?= $(BIN_DIR)/gosentinel-image.tar

image: check-go ## IMAGE (bin/gosentinel-image.tar), the OCI image, without a container engine
	VERSION=$(VERSION) bash deploy/image/build.sh $(IMAGE)

clean: ## remove bin/
	rm -rf $(BIN_DIR)
