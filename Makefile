# Bourse build.  `make` builds build/bourse; `make test` runs every test, also
# under ASan+UBSan, and the threaded ones under ThreadSanitizer; `make run`
# starts the main job.  Sources are found by directory, so a new file in a
# folder of src/, in bench/ or in tests/unit/ needs no change here (a new
# folder of src/ is a new component: add it to COMPONENTS).

BUILD    ?= build
CC       ?= cc
PKGS     := libuv libsodium inih libwebsockets sqlite3 openssl libpq raft
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-missing-field-initializers
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -D_GNU_SOURCE -MMD -MP $(WARN) -Iinclude -Isrc -I.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LDLIBS   += $(PKG_LIBS) -lpthread -lm

# ThreadSanitizer (clang): `make tsan` builds with TSAN=1 into build/tsan.
ifeq ($(TSAN),1)
  CFLAGS  += -O1 -fsanitize=thread -fno-omit-frame-pointer
  LDFLAGS += -fsanitize=thread
endif

ifeq ($(SAN),1)
  CFLAGS  += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
  LDFLAGS += -fsanitize=address,undefined
endif

# One archive per component (docs/architecture.md, "Components"), listed
# so that each comes before the ones it calls: a static link resolves left to
# right.  The exchange is core, journal, net, feed and server; load, bench and top
# (`bourse top`) are tools linked only into the `bourse` binary; src/cli (main.c and one
# file per subcommand) is the binary's objects and no archive.
COMPONENTS := bench load report top server http feed cluster journal net accounts
comp_dir    = $(if $(filter bench,$(1)),bench,src/$(1))
CORE_SRC  := $(wildcard src/core/*.c)
CLI_SRC   := $(wildcard src/cli/*.c)
TEST_SRC  := $(wildcard tests/unit/test_*.c)
# A folder of src/ with C files that is no component would not be built.
UNLISTED  := $(filter-out core cli util $(COMPONENTS),$(patsubst src/%/,%,$(sort $(dir $(wildcard src/*/*.c)))))
ifneq ($(UNLISTED),)
  $(error src/$(UNLISTED) is not in COMPONENTS: add it there, after the components that call it)
endif

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
CORE_OBJ  := $(call obj,$(CORE_SRC))
CLI_OBJ   := $(call obj,$(CLI_SRC))
TESTS     := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(TEST_SRC))
LIBS      := $(foreach c,$(COMPONENTS),$(BUILD)/libbourse-$(c).a) $(BUILD)/libbourse.a
# The unit tests link the exchange's archives only: a test of the exchange
# that needed the load generator, the harness or `bourse top` would be a layering bug.
TEST_LIBS := $(filter-out %-bench.a %-load.a %-top.a,$(LIBS))

.PHONY: all deps test check run run-cluster bench load fuzz clean format format-check tsan web
.SECONDARY:
all: deps $(BUILD)/bourse web

# The web terminal's npm packages (web/package-lock.json) installed by
# `npm ci` into build/npm, and the chart library copied into web/vendor/,
# served at /vendor/ (scripts/web.sh, docs/web.md).  Without npm it says so
# and the page runs without its chart.
web:
	@sh scripts/web.sh build/npm

# The build's packages; the tests' too (clang, clang-format, curl) only for
# the goals that run tests or when clang compiles (scripts/deps.sh).
TEST_GOALS := test check tsan fuzz soak format format-check attack
DEPS_KIND  := $(if $(or $(filter $(TEST_GOALS),$(MAKECMDGOALS)),$(filter clang%,$(notdir $(CC))),$(filter 1,$(SAN) $(TSAN))),test,build)
deps:
	@sh scripts/deps.sh $(DEPS_KIND)

$(BUILD)/libbourse.a: $(CORE_OBJ)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

define component_lib
$(BUILD)/libbourse-$(1).a: $$(call obj,$$(wildcard $(call comp_dir,$(1))/*.c))
	@mkdir -p $$(@D)
	rm -f $$@
	$$(AR) rcs $$@ $$^
endef
$(foreach c,$(COMPONENTS),$(eval $(call component_lib,$(c))))

$(BUILD)/bourse: $(CLI_OBJ) $(LIBS)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(LIBS) $(LDLIBS)

# After deps (order-only): with -j, a fresh machine must have the packages,
# and pkg-config their flags, before the first compile.
$(BUILD)/obj/%.o: %.c | deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(TEST_LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(TEST_LIBS) $(LDLIBS)

# Everything the test suite runs, for one build flavour.
check: $(BUILD)/bourse $(TESTS) web
	@BUILD=$(BUILD) sh tests/run.sh

# The threaded tests under ThreadSanitizer (tests/tsan.sh says which and
# why): any race report from any process is a failure.
TSAN_TESTS := test_journal test_feed_net test_feed_publish test_spsc test_http test_linkcarrier
tsan: deps
	@$(MAKE) --no-print-directory BUILD=build/tsan TSAN=1 CC=clang build/tsan/bourse \
	  $(addprefix build/tsan/tests/,$(TSAN_TESTS))
	@BUILD=build/tsan sh tests/tsan.sh

# All three flavours run even when one fails; the last line totals them.
test: deps
	@rm -f build/test-counts build/san/test-counts build/tsan/test-counts; \
	$(MAKE) --no-print-directory check; a=$$?; \
	$(MAKE) --no-print-directory check BUILD=build/san SAN=1 CC=clang; b=$$?; \
	$(MAKE) --no-print-directory tsan; c=$$?; \
	cat build/test-counts build/san/test-counts build/tsan/test-counts 2>/dev/null | \
	  awk '{p+=$$1; f+=$$2; s+=$$3} END {printf "total: %d passed, %d failed, %d skipped\n", p, f, s}'; \
	[ $$a -eq 0 ] && [ $$b -eq 0 ] && [ $$c -eq 0 ]

# Longer randomized property run (~3 minutes): SOAK scenarios of 5,000 commands
# from seed SOAK_SEED on; add BUILD=build/san SAN=1 CC=clang for sanitizers.
.PHONY: soak
SOAK ?= 10000
SOAK_SEED ?= 1000000
soak: $(BUILD)/tests/test_property
	BOURSE_SOAK=$(SOAK) BOURSE_SOAK_SEED=$(SOAK_SEED) $(BUILD)/tests/test_property

# The exchange with its defaults: data in $(BUILD)/data, orders on port 9001
# (SoupBinTCP/OUCH) and 9005 (FIX 4.4, docs/fix.md).
# Once ready it logs the commands of a first session (two traders, a trade,
# the book) and the web page's URL (--first-steps; README.md, "First hour").
run: all
	@echo "Starting the exchange (data in $(BUILD)/data; Ctrl-C stops it)."
	$(BUILD)/bourse serve --data $(BUILD)/data --fix-port 9005 --first-steps

# Simulated traders on a scratch exchange of their own (temporary data
# directory and ports, removed after): `make run`'s exchange is not touched.
.PHONY: try-load
try-load: all
	@sh scripts/try-load.sh $(BUILD)/bourse

# Three replicas on Raft on loopback (docs/replication.md): `bourse cluster`
# nodes with data in $(BUILD)/cluster/n1..n3; Ctrl-C stops them.
run-cluster: all
	@sh scripts/run-cluster.sh $(BUILD)/bourse $(BUILD)/cluster

# The matching core alone, three workloads (docs/benchmarks.md, "The matching
# core"); e.g. `make bench BENCH_ARGS=--json` for one JSON object per workload.
# Every benchmark the issues ask for: the core, the journal, the server under
# load (with the sessions run) and market-data fan-out.  Each part also runs alone.
bench: bench-core
	$(BUILD)/bourse bench --workload journal
	@$(MAKE) --no-print-directory load
	@$(MAKE) --no-print-directory bench-feed
	@$(MAKE) --no-print-directory bench-http

# The HTTP API (docs/benchmarks.md, "The HTTP API"): the HTTP order round
# trip beside OUCH's and the TCP echo at 5,000 and 50,000 requests/s, one
# server (bench/http/bench.sh; PERF=1 adds where the server's time goes).
.PHONY: bench-http
bench-http: all
	BOURSE=$(BUILD)/bourse sh bench/http/bench.sh 10 5000 50000
	BOURSE=$(BUILD)/bourse sh bench/http/userws.sh 4000 2000 100

# The private WebSocket alone: USERS sockets, TRADES fills pushed to them
# (bench/http/userws.sh USERS TRADES RATE).
.PHONY: bench-userws
bench-userws: all
	BOURSE=$(BUILD)/bourse sh bench/http/userws.sh 4000 2000 100

.PHONY: bench-cluster
# Replication (docs/benchmarks.md, "Replication"), a few minutes: failover
# time over 20 kills of the leader, a lagging follower's catch-up, and one
# node vs three through `bourse load` (OUCH) at 50,000 orders/s
# (bench/cluster.sh; CLUSTER_RATE sets the load's rate).
CLUSTER_RATE ?= 50000
bench-cluster: all
	BOURSE=$(BUILD)/bourse sh bench/cluster.sh failover 20
	BOURSE=$(BUILD)/bourse sh bench/cluster.sh catchup 10 5000
	BOURSE=$(BUILD)/bourse sh bench/cluster.sh load $(CLUSTER_RATE) 5

.PHONY: bench-report
# The reporting follower's throughput into SQLite (docs/benchmarks.md, "Reporting").
bench-report: all
	BOURSE=$(BUILD)/bourse sh bench/report.sh 200000

.PHONY: bench-report-live
# The follower beside a trading server: its lag, the round trip with and without it.
bench-report-live: all
	BOURSE=$(BUILD)/bourse sh bench/report_live.sh 20000 10

.PHONY: bench-core
bench-core: all
	$(BUILD)/bourse bench --workload exchange-core $(BENCH_ARGS)
	$(BUILD)/bourse bench --workload multi $(BENCH_ARGS)
	$(BUILD)/bourse bench --workload big $(BENCH_ARGS)

# Market data (minutes): the publisher, its cost to the engine, and WebSocket
# fan-out to 1,000 and 10,000 subscribers (docs/benchmarks.md, "Market data").
.PHONY: bench-feed
bench-feed: all
	$(BUILD)/bourse feed bench --workload exchange-core --runs 5
	$(BUILD)/bourse feed bench --workload multi --messages 1000000 --runs 3
	$(BUILD)/bourse feed bench --workload exchange-core --subscribers 1000,10000 --rate 100000 --seconds 10

# Long runs of the server under load (minutes): throughput, latency, sessions.
load: all
	@sh scripts/load.sh $(BUILD)/bourse

# Round-trip latency, server vs TCP echo side by side, with the server's
# stage clocks: JSON, a markdown table and SVG plots in latency-out/
# (scripts/latency.sh: RATES, DURABILITIES, VARIANTS, PROCS, LOAD_CPU...).
.PHONY: bench-latency
bench-latency: all
	@sh scripts/latency.sh $(BUILD)/bourse

# libFuzzer targets (clang): the journal reader (tests/fuzz/journal.c) and
# every decoder of client bytes (tests/fuzz/wire.c).  `make fuzz` runs each
# for FUZZ_SECONDS, keeping corpora in build/fuzz/corpus-NAME; `make test`
# runs each for a few seconds (tests/sh/fuzz.sh).
FUZZ_SECONDS ?= 300
FUZZ_CC := clang -g -O1 -std=c11 -D_GNU_SOURCE $(WARN) -Iinclude -Isrc -I. -fsanitize=fuzzer,address,undefined
FUZZ_JOURNAL := tests/fuzz/journal.c $(CORE_SRC) $(addprefix src/journal/,crc32c.c dirlist.c record.c segment.c scan.c)
FUZZ_WIRE := tests/fuzz/wire.c $(CORE_SRC) src/net/soup.c src/net/ouch.c src/net/fix.c $(addprefix src/feed/,itch.c candle.c json.c mold.c) src/http/json.c
FUZZ_HDRS := $(wildcard include/bourse/*.h src/*/*.h)
build/fuzz/journal: $(FUZZ_JOURNAL) $(FUZZ_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) -o $@ $(FUZZ_JOURNAL) -lpthread
build/fuzz/wire: $(FUZZ_WIRE) $(FUZZ_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) -o $@ $(FUZZ_WIRE) -lpthread

# The FIX test initiator on QuickFIX (C++; tests/sh/e2e_fix.sh builds it).
build/fix/peer: tests/fix/peer.cpp
	@mkdir -p $(@D)
	g++ -std=gnu++14 -O1 -g -Wall -Werror -Wno-deprecated -Wno-deprecated-declarations -o $@ $< -lquickfix -lpthread

fuzz: all build/fuzz/journal build/fuzz/wire
	FUZZ=build/fuzz/journal BOURSE=$(BUILD)/bourse sh tests/fuzz/run.sh $(FUZZ_SECONDS)
	FUZZ=build/fuzz/wire BOURSE=$(BUILD)/bourse sh tests/fuzz/run.sh $(FUZZ_SECONDS)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

# Every tracked C file as .clang-format says (tests/sh/layout.sh runs it too).
format-check:
	clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# Attacks on a live server (issue #19): tests/attack/attack.c is the tool,
# tests/sh/e2e_attack.sh its bounded use in `make test`, and `make attack`
# (minutes) re-measures the figures in docs/benchmarks.md ("Under attack").
.PHONY: attack
$(BUILD)/attack: $(BUILD)/obj/tests/attack/attack.o $(TEST_LIBS)
	$(CC) $(LDFLAGS) -o $@ $< $(TEST_LIBS) $(LDLIBS)
check: $(BUILD)/attack
attack: all $(BUILD)/attack
	@sh scripts/attack.sh $(BUILD)/bourse $(BUILD)/attack
