# lodis — one non-recursive Makefile.
#
#   make            build lodis-server and lodis-migrate (release, build/release/)
#   make run        build, then start lodis-server on conf/lodis.conf
#   make test       unit + integration + diff tests, release and ASan/UBSan builds
#   make bench      redis-benchmark against lodis and redis-server side by side
#   make bench-large  a dataset far larger than maxmemory, under a memory cap
#   make SAN=1      build the ASan/UBSan variant into build/asan/
#   make install    install binaries, config and man page under PREFIX
#
# Every target that needs a dependency calls scripts/setup first; it installs
# only what is missing, so a fresh Debian machine needs no manual step.

PREFIX  ?= /usr/local
PYTHON  ?= /usr/bin/python3

ifeq ($(SAN),1)
VARIANT := asan
OPT     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDSAN   := -fsanitize=address,undefined
else
VARIANT := release
OPT     := -O2 -g
LDSAN   :=
endif

B       := build/$(VARIANT)
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wpointer-arith -Wformat=2 -Wvla -Wundef -Wimplicit-fallthrough
CFLAGS  := -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -I. -I/usr/include/lua5.1 -MMD -MP
LDLIBS  := -llmdb -lzstd -lev -llua5.1 -lcjson -lm -lpthread

STORAGE_SRC := $(wildcard storage/*.c)
SERVER_SRC  := $(wildcard server/*.c)
MIGRATE_SRC := $(wildcard migrate/*.c)
UNIT_SRC    := $(wildcard tests/unit/test_*.c)

STORAGE_OBJ := $(STORAGE_SRC:%.c=$(B)/%.o)
SERVER_OBJ  := $(SERVER_SRC:%.c=$(B)/%.o)
MIGRATE_OBJ := $(MIGRATE_SRC:%.c=$(B)/%.o)
# Server modules that are leaves (libc only) and may be linked into unit tests.
SERVER_LEAF := $(B)/server/resp.o
UNIT_BIN    := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

STORAGE_LIB := $(B)/liblodis-storage.a
SERVER_BIN  := $(B)/lodis-server
MIGRATE_BIN := $(B)/lodis-migrate
# Test helpers built with the binaries (integration tests run them); never installed.
TOOLS_BIN   := $(patsubst tests/tools/%.c,$(B)/tests/tools/%,$(wildcard tests/tools/*.c))

.PHONY: all setup run test test-unit test-integration test-diff bench bench-large install clean lint

all: $(SERVER_BIN) $(MIGRATE_BIN) $(TOOLS_BIN)
	@ln -sf $(SERVER_BIN) lodis-server
	@ln -sf $(MIGRATE_BIN) lodis-migrate

setup:
	@bash scripts/setup

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(STORAGE_LIB): $(STORAGE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(SERVER_BIN): $(SERVER_OBJ) $(STORAGE_LIB)
	$(CC) $(LDSAN) -o $@ $(SERVER_OBJ) $(STORAGE_LIB) $(LDLIBS)

$(MIGRATE_BIN): $(MIGRATE_OBJ) $(STORAGE_LIB)
	$(CC) $(LDSAN) -o $@ $(MIGRATE_OBJ) $(STORAGE_LIB) $(LDLIBS)

$(B)/tests/tools/%: tests/tools/%.c $(STORAGE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDSAN) -o $@ $< $(STORAGE_LIB) $(LDLIBS)

# The command table's test needs only the table (it defines the procs it checks).
$(B)/tests/test_cmdtable: tests/unit/test_cmdtable.c $(B)/server/cmdtable.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDSAN) -o $@ $< $(B)/server/cmdtable.o -lcmocka

# The dump format's test links the migrate codec and its file framing.
$(B)/tests/test_dumpfmt: tests/unit/test_dumpfmt.c $(B)/migrate/dumpfmt.o $(B)/migrate/dumpfile.o $(STORAGE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDSAN) -o $@ $< $(B)/migrate/dumpfmt.o $(B)/migrate/dumpfile.o $(STORAGE_LIB) $(LDLIBS) -lcmocka

# copy's RESP client: its parser and URL reader, no server.
$(B)/tests/test_rconn: tests/unit/test_rconn.c $(B)/migrate/rconn.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDSAN) -o $@ $< $(B)/migrate/rconn.o -lcmocka

# Regenerate the checked-in table when a spec changes (python3 is a setup dependency).
server/commands.def: $(wildcard server/commands/*.json) scripts/gen-commands
	@if [ -x $(PYTHON) ]; then $(PYTHON) scripts/gen-commands; else touch $@; fi

$(B)/tests/%: tests/unit/%.c $(STORAGE_LIB) $(SERVER_LEAF)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDSAN) -o $@ $< $(SERVER_LEAF) $(STORAGE_LIB) $(LDLIBS) -lcmocka

run: setup all
	./lodis-server conf/lodis.conf

test: setup
	@bash scripts/test

test-unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

bench: setup all
	@bash scripts/bench

# A dataset ~20x maxmemory under a memory cap (root: cgroup v1); see the script.
bench-large: setup all
	@bash scripts/bench-large $(BENCH_LARGE_ARGS)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)/etc/lodis
	install -m 755 $(SERVER_BIN) $(DESTDIR)$(PREFIX)/bin/lodis-server
	install -m 755 $(MIGRATE_BIN) $(DESTDIR)$(PREFIX)/bin/lodis-migrate
	install -m 644 man/lodis-server.1 man/lodis-migrate.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 conf/lodis.conf $(DESTDIR)/etc/lodis/lodis.conf

lint:
	$(PYTHON) scripts/gen-commands --check
	bash scripts/check-layers

clean:
	rm -rf build lodis-server lodis-migrate

.PHONY: fuzz fuzz-smoke
# The RDB codec's fuzz target: libFuzzer under clang (make fuzz; run
# build/fuzz/fuzz_rdb tests/fuzz/corpus), or a bounded mutation run of the
# same target through tests/fuzz/fuzz_main.c with this build's sanitizers.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 20
fuzz: build/fuzz/fuzz_rdb
build/fuzz/fuzz_rdb: tests/fuzz/fuzz_rdb.c $(STORAGE_SRC)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=c11 -D_GNU_SOURCE -O1 -g -fsanitize=fuzzer,address,undefined -I. -o $@ \
		tests/fuzz/fuzz_rdb.c $(STORAGE_SRC) -llmdb -lzstd -lm -lpthread
$(B)/tests/fuzz_rdb_smoke: tests/fuzz/fuzz_main.c tests/fuzz/fuzz_rdb.c $(STORAGE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDSAN) -Wno-missing-prototypes -o $@ tests/fuzz/fuzz_main.c \
		tests/fuzz/fuzz_rdb.c $(STORAGE_LIB) $(LDLIBS)
fuzz-smoke: $(B)/tests/fuzz_rdb_smoke
	$(B)/tests/fuzz_rdb_smoke -t $(FUZZ_SECONDS) tests/fuzz/corpus

-include $(STORAGE_OBJ:.o=.d) $(SERVER_OBJ:.o=.d) $(MIGRATE_OBJ:.o=.d)
