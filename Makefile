# wtbox: rootless sandbox launcher for parallel coding agents.
#
#   make                      build build/wtbox
#   make check                unit + integration tests (as root: also as an
#                             unprivileged user)
#   make DEVELOPER=1          adds -Werror
#   make SANITIZE=address,undefined check
#                             the whole suite under sanitizers (in build-san/)
#   make bench                scripts/bench.sh, prints ratios against git,
#                             bubblewrap, pasta and slirp4netns
#   make fuzz                 libFuzzer on the policy parser and compiler
#                             (clang, ASan+UBSan, in build-fuzz/) for
#                             FUZZ_SECONDS (default 60); not part of check
#   make install              PREFIX=/usr/local DESTDIR=

VERSION   := 0.1.0
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
DATADIR   ?= $(PREFIX)/share/wtbox

CC        ?= cc
PKG_CONFIG ?= pkg-config
PKGS      := libgit2 libseccomp libcap libcjson
# Integration tests at once (they are independent; 2 cores).
JOBS      ?= 2

ifneq ($(SANITIZE),)
BUILD     ?= build-san
else
BUILD     ?= build
endif

WARNINGS  := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
             -Wformat=2 -Wvla -Wwrite-strings -Wimplicit-fallthrough
HARDENING := -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fPIE
CFLAGS    ?= -O2 -g

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

# libgit2 and what it links, and libseccomp and libcap, statically
# (STATIC_GIT=0: the shared libraries instead); cJSON, of which Debian
# ships no archive, stays shared. Every wtbox process, each agent's
# supervisor among them, then maps none of Debian's libgit2 dependencies
# (mbedTLS, libssh2 with libcrypto, Kerberos, PCRE2) and skips libgit2's
# TLS set-up: see src/nonet.c, which takes the place of the network parts
# wtbox never uses, and src/nossh.c, which stands in for libssh2 (and so
# keeps OpenSSL's libcrypto out); both are linked only here. The archives come
# with libgit2-dev's dependencies, libseccomp-dev and libcap-dev.
STATIC_GIT ?= 1
ifeq ($(STATIC_GIT),1)
GIT_STATIC := $(filter-out -lrt -lssh2,$(shell $(PKG_CONFIG) --libs --static libgit2 2>/dev/null))
GIT_WRAP   := git_mbedtls_stream_global_init git_mbedtls_stream_new git_mbedtls_stream_wrap \
              git_mbedtls__set_cert_location
LINK_LIBS  := $(foreach f,$(GIT_WRAP),-Wl,--wrap=$(f)) \
              -Wl,-Bstatic $(GIT_STATIC) \
              $(shell $(PKG_CONFIG) --libs --static libseccomp libcap 2>/dev/null) -Wl,-Bdynamic \
              $(shell $(PKG_CONFIG) --libs libcjson 2>/dev/null) -lpthread
NONET_OBJ  := $(BUILD)/obj/nonet.o $(BUILD)/obj/nossh.o
else
LINK_LIBS  := $(PKG_LIBS)
NONET_OBJ  :=
endif

ALL_CFLAGS := -std=c17 -D_GNU_SOURCE $(WARNINGS) $(HARDENING) $(PKG_CFLAGS) \
              -DWTBOX_VERSION='"$(VERSION)"' -DWTBOX_DATADIR='"$(DATADIR)"' \
              -MMD -MP $(CFLAGS)
# pack-relative-relocs: the PIE's relocations as a compact bitmap
# (DT_RELR, glibc 2.36), not 24 bytes each for the loader to read at
# every start; there are some 18,000 with libgit2 linked in.
ALL_LDFLAGS := -pie -Wl,-z,relro,-z,now -Wl,-z,pack-relative-relocs $(LDFLAGS)

ifeq ($(DEVELOPER),1)
ALL_CFLAGS += -Werror
endif
ifneq ($(SANITIZE),)
ALL_CFLAGS  += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
ALL_LDFLAGS += -fsanitize=$(SANITIZE)
endif

# Everything but main.c goes into a static library that the binary, the
# fault-injection binary and the unit tests link against.
LIB_SRCS  := $(filter-out src/main.c src/nonet.c src/nossh.c,$(wildcard src/*.c))
LIB_OBJS  := $(LIB_SRCS:src/%.c=$(BUILD)/obj/%.o)
FAULT_OBJS := $(LIB_SRCS:src/%.c=$(BUILD)/obj-fault/%.o) $(BUILD)/obj-fault/main.o $(NONET_OBJ)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
# The stand-ins for libgit2's network parts exist only in a static link.
ifneq ($(STATIC_GIT),1)
UNIT_SRCS := $(filter-out tests/unit/test_nonet.c,$(UNIT_SRCS))
endif
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/unit/%)
HELPER_SRCS := $(wildcard tests/helpers/*.c)
HELPER_BINS := $(HELPER_SRCS:tests/helpers/%.c=$(BUILD)/helpers/%)

.PHONY: all check unit integration bench fuzz install clean format format-check

all: $(BUILD)/wtbox

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The fault-injection build: same sources, with WTBOX_FAULTS defined so that
# WTBOX_FAULT=<point> makes the named step fail. Only tests use it.
$(BUILD)/obj-fault/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -DWTBOX_FAULTS -c -o $@ $<

$(BUILD)/libwtbox.a: $(LIB_OBJS)
	$(AR) rcs $@ $^

$(BUILD)/wtbox: $(BUILD)/obj/main.o $(BUILD)/libwtbox.a $(NONET_OBJ)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(LINK_LIBS)

$(BUILD)/wtbox-faults: $(FAULT_OBJS)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(LINK_LIBS)

$(BUILD)/unit/%: tests/unit/%.c tests/unit/tap.h $(BUILD)/libwtbox.a $(NONET_OBJ)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Isrc $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libwtbox.a $(NONET_OBJ) $(LINK_LIBS)

# Probes run inside the sandbox: built without sanitizers (LeakSanitizer
# needs ptrace, which a sandboxed process does not get) and statically, so
# they do not depend on what the sandbox shows of the host's libraries.
HELPER_CFLAGS := -std=c17 -D_GNU_SOURCE $(WARNINGS) -O2 -g $(if $(filter 1,$(DEVELOPER)),-Werror)

$(BUILD)/helpers/%: tests/helpers/%.c
	@mkdir -p $(@D)
	$(CC) $(HELPER_CFLAGS) -static -o $@ $<

check: $(BUILD)/wtbox $(BUILD)/wtbox-faults $(UNIT_BINS) $(HELPER_BINS)
	BUILD=$(BUILD) JOBS=$(JOBS) tests/run.sh

unit: $(UNIT_BINS)
	BUILD=$(BUILD) tests/run.sh --unit-only

bench: $(BUILD)/wtbox $(BUILD)/helpers/tcpbench
	BUILD=$(BUILD) scripts/bench.sh $(BENCH_ARGS)

install: $(BUILD)/wtbox
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/policies
	install -m 0755 $(BUILD)/wtbox $(DESTDIR)$(BINDIR)/wtbox
	for p in policies/*.json; do [ -e "$$p" ] || continue; \
	    install -m 0644 "$$p" $(DESTDIR)$(DATADIR)/policies/; done

# The fuzz target: tests/fuzz/fuzz_policy.c over the library, built with
# clang's libFuzzer and ASan+UBSan into build-fuzz/ (its own objects: the
# fuzzer instruments everything). The seed corpus is policies/*.json,
# tests/fuzz/seeds/ (small ones that use every field) and
# Docker's profile from the shared test data; what the run finds is kept
# in build-fuzz/corpus, a crashing input in build-fuzz/crash-*.
FUZZ_BUILD   := build-fuzz
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
WTBOX_TESTDATA ?= $(abspath ../shared/testdata)
FUZZ_FLAGS   := -std=c17 -D_GNU_SOURCE $(WARNINGS) -g -O1 -fno-omit-frame-pointer \
                -fno-sanitize-recover=all $(PKG_CFLAGS) -Isrc \
                -DWTBOX_VERSION='"$(VERSION)"' -DWTBOX_DATADIR='"$(DATADIR)"'
FUZZ_OBJS    := $(LIB_SRCS:src/%.c=$(FUZZ_BUILD)/obj/%.o)

$(FUZZ_BUILD)/obj/%.o: src/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link,address,undefined -MMD -MP -c -o $@ $<

$(FUZZ_BUILD)/libwtbox.a: $(FUZZ_OBJS)
	$(AR) rcs $@ $^

$(FUZZ_BUILD)/fuzz_policy: tests/fuzz/fuzz_policy.c $(FUZZ_BUILD)/libwtbox.a
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< \
	    $(FUZZ_BUILD)/libwtbox.a $(PKG_LIBS)

fuzz: $(FUZZ_BUILD)/fuzz_policy
	rm -rf $(FUZZ_BUILD)/seeds
	mkdir -p $(FUZZ_BUILD)/seeds $(FUZZ_BUILD)/corpus
	cp policies/*.json tests/fuzz/seeds/*.json $(FUZZ_BUILD)/seeds/
	if [ -f "$(WTBOX_TESTDATA)/seccomp/docker-default.json" ]; then \
	    cp "$(WTBOX_TESTDATA)/seccomp/docker-default.json" $(FUZZ_BUILD)/seeds/; \
	else echo "make fuzz: no docker-default.json under '$(WTBOX_TESTDATA)'" >&2; fi
	$(FUZZ_BUILD)/fuzz_policy -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	    -dict=tests/fuzz/policy.dict -artifact_prefix=$(FUZZ_BUILD)/ \
	    -print_final_stats=1 $(FUZZ_BUILD)/corpus $(FUZZ_BUILD)/seeds

clean:
	rm -rf build build-san build-fuzz

FORMAT_FILES := $(wildcard src/*.c src/*.h tests/unit/*.c tests/unit/*.h tests/helpers/*.c \
                  tests/fuzz/*.c)

format:
	clang-format -i $(FORMAT_FILES)

format-check:
	clang-format --dry-run --Werror $(FORMAT_FILES)

-include $(wildcard $(BUILD)/obj/*.d $(BUILD)/obj-fault/*.d $(BUILD)/unit/*.d \
                    $(FUZZ_BUILD)/obj/*.d)
