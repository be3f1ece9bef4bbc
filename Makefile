# The README's two commands are `make demo` and `make test`; both set up a fresh machine first.
.PHONY: all setup build harness image certs dist deploy-check demo demo-service demo-failover test check faults nemesis bench bench-failover docs timeline views hosts-up hosts-down clean

IMAGE      := localhost/akka-migration-worker:latest
# The simulated hosts, demos and wrappers (Harness/), as `make build` or `make setup` built them.
HARNESS    := dotnet Harness/bin/Release/net10.0/AkkaMigration.Harness.dll
IMAGE_TAR  := build/worker-image.tar
WORKER_SRC := $(wildcard container/*.cs container/*.csproj container/Containerfile)

all: image

setup:
	@scripts/setup.sh

build:
	dotnet build AkkaMigration.sln -c Release -nologo -clp:ErrorsOnly -v:q

# The harness alone (and the node and client it runs), for the targets that need no setup.
harness:
	@dotnet build Harness/Harness.csproj -c Release -nologo -clp:ErrorsOnly -v:q >/dev/null

# `make` builds the workload image; hosts load it from $(IMAGE_TAR) with initializeDemo.sh.
image: $(IMAGE_TAR)

$(IMAGE_TAR): $(WORKER_SRC)
	dotnet publish container/Worker.csproj -c Release -r linux-x64 -o build/worker -nologo -v:q
	rm -rf build/image && mkdir -p build/image/rootfs
	cp build/worker/worker build/image/rootfs/worker
	# Copy exactly the shared libraries the binary links, at the paths its loader expects.
	ldd build/worker/worker | grep -oE '/[^ ]+' | while read -r lib; do \
	  mkdir -p build/image/rootfs$$(dirname $$lib) && cp -L $$lib build/image/rootfs$$lib; done
	cp container/Containerfile build/image/Containerfile
	podman build --runtime runc -q -t $(IMAGE) build/image
	rm -f $@.tmp && podman save -q -o $@.tmp $(IMAGE) && mv $@.tmp $@

# The bundle for real hosts (no SDK, no source there): dist/akka-migration-VERSION-linux-x64.tar.gz.
VERSION  := $(shell cat VERSION)
DIST_TAR := dist/akka-migration-$(VERSION)-linux-x64.tar.gz
DIST_SRC := $(shell find Node Client Shared hocon packaging -type f -not -path '*/bin/*' -not -path '*/obj/*') \
  Directory.Build.props Directory.Packages.props config.ini VERSION \
  scripts/dist.sh scripts/install-runtime.sh scripts/build-criu.sh scripts/pki.sh

dist: $(DIST_TAR)

$(DIST_TAR): $(DIST_SRC) $(IMAGE_TAR)
	@scripts/dist.sh >/dev/null

# The bundle installed as the README's "Deploy on real machines" says, on simulated hosts that see
# nothing else; ends with: result 42 from nodeB.
deploy-check: dist harness
	@$(HARNESS) deploy-check $(DIST_TAR)

# The cluster CA and certificates for config.ini's hosts and the client, in build/pki (setup runs
# it after the build: the node reads config.ini's hosts).
certs:
	@$(HARNESS) certs

# A key-value service moved between two hosts while a client writes to it over one connection.
demo-service: setup
	@$(HARNESS) demo-service

# A protected job resumed on another host after its host is burnt (three simulated hosts with fencing agents).
demo-failover: setup
	@$(HARNESS) demo-failover

# `make demo HOSTS=3` (2 to 26): the same demo in a cluster of that many simulated hosts.
demo: setup
	@$(HARNESS) demo $(if $(HOSTS),--hosts $(HOSTS))

test: setup
	@scripts/test.sh

# The fast lane: every test that needs no podman, CRIU or simulated hosts; the slow categories are
# left out by name (Tests/Specs/TestCategorySpecs.cs checks the list), on 6 xunit threads (2 cores:
# the specs mostly wait). Its last line is make test's.
check: build
	@scripts/test.sh 'Category!=Integration&Category!=EndToEnd&Category!=Bench&Category!=Faults&Category!=Nemesis' 6

# The fault suite alone (it also runs in `make test`), with a table of what each fault did.
faults: setup
	@$(HARNESS) faults

# The randomized run alone, 10 minutes (a 45-second one runs in `make test`); SEED=N replays its choices, MINUTES=M.
nemesis: setup
	@$(HARNESS) nemesis

# Issues 4 and 16's benchmark: the cluster against podman by hand, per link (bare, tc 10 and 1 Gbit/s),
# with a live service's pause, 1 to 4 GB containers and checkpoint compression (none, zstd, gzip);
# writes docs/benchmark.md and .png. Its own target; Harness/Bench/BenchSettings.cs lists its knobs. Its clients are the bundle's.
# `make bench BENCH_QUICK=1`: a smoke slice, each part once at small size, report in build/bench-quick/;
# `make test` runs it (Tests/EndToEnd/BenchmarkSmokeTests.cs).
bench: setup dist
	@$(HARNESS) bench

# Issue 33's figures alone (make bench ends with them): failover time and protection's cost, on three
# simulated hosts with fencing agents; report in build/bench-failover/ (docs/ stays as it is).
bench-failover: setup dist
	@BENCH_FAILOVER_ONLY=1 $(HARNESS) bench

# docs/*.png drawn again from their sources: Graphviz's docs/*.dot and gnuplot's docs/*.gp (the
# migration timeline, from `make timeline`'s data); installs graphviz and gnuplot if missing.
docs: harness
	@$(HARNESS) docs

# docs/timeline.log and .tsv from the last `make demo`'s node logs (build/demo), for `make docs`.
timeline: harness
	@$(HARNESS) timeline

# docs/views/*.txt: client migrate and watch as a terminal shows them, from a move on the simulated hosts.
views: setup
	@$(HARNESS) views

hosts-up: harness
	@$(HARNESS) hosts up

hosts-down: harness
	@$(HARNESS) hosts down

clean:
	rm -rf build dist
	dotnet clean AkkaMigration.sln -nologo -v:q
