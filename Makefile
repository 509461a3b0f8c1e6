# refit — plain GNU make. `make help` lists the targets.
#
# Build trees: build/ (normal), build/san/ (SANITIZER=…, used by the unit tests),
# build/fuzz/ (clang + libFuzzer). Objects carry -MMD dependency files.

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
SBINDIR    ?= $(PREFIX)/sbin
SYSCONFDIR ?= /etc
MANDIR     ?= $(PREFIX)/share/man
UNITDIR    ?= /lib/systemd/system
SYSUSERSDIR ?= /usr/lib/sysusers.d
TMPFILESDIR ?= /usr/lib/tmpfiles.d
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
DESTDIR    ?=

CC        ?= cc
PKG_CONFIG ?= pkg-config
SANITIZER ?=
BUILD     ?= build
FUZZ_CC   ?= clang
FUZZ_SECONDS ?= 60

LIBS_PC   := libuv libcurl jansson yaml-0.1 sqlite3 libarchive libmicrohttpd libsystemd libcrypto \
	libnghttp2
VERSION   := $(shell git describe --always --dirty 2>/dev/null || echo 0.1.0)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wpointer-arith -Wwrite-strings -Wvla -Wundef -Wcast-qual \
	-Wimplicit-fallthrough -Wno-unused-parameter
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -O2 -g -pipe -fno-strict-aliasing $(WARN) \
	-DREFIT_VERSION='"$(VERSION)"'
ifneq ($(SANITIZER),)
BASE_CFLAGS += -fsanitize=$(SANITIZER) -fno-omit-frame-pointer -fno-sanitize-recover=all -O1
SAN_LDFLAGS := -fsanitize=$(SANITIZER)
endif
PC_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(LIBS_PC) 2>/dev/null)
# The pure layer may use these libraries and no other (no loop, network, database or server).
PURE_PC   := jansson yaml-0.1 libarchive libcrypto
PURE_PC_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PURE_PC) 2>/dev/null)
PC_LIBS   := $(shell $(PKG_CONFIG) --libs $(LIBS_PC) 2>/dev/null)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)
# The user's CFLAGS/LDFLAGS come after ours so they win.
ALL_CFLAGS  = $(BASE_CFLAGS) $(call layer_cflags,$<) $(CFLAGS)

# daemon/ is one folder per layer; each sees its own headers and those of the layers
# it may use, so a header included across the layering fails to compile:
#   lib    pure code shared by refitd and refitctl: parsers, orders, lint, matching.
#          Built with BUILD/poison first on the include path, whose uv.h, curl/curl.h,
#          sqlite3.h, microhttpd.h... are #error: a pure module cannot include them.
#   io     clients of the outside: HTTP (curl on the loop), Engine API, registries,
#          credentials, the build context tar
#   store  the SQLite state store
#   core   main, the loop's triggers, the scheduler, the pipeline, feeds, notify
#   api    the REST endpoint, metrics, the status page (reads the store, never io)
#   ctl    refitctl
LAYERS := lib io store core api ctl
POISON := uv.h curl/curl.h sqlite3.h microhttpd.h systemd/sd-daemon.h nghttp2/nghttp2.h
INC_lib   := -I$(BUILD)/poison -Idaemon/lib
INC_io    := -Idaemon/io -Idaemon/lib
INC_store := -Idaemon/store -Idaemon/lib
INC_core  := -Idaemon/core -Idaemon/io -Idaemon/store -Idaemon/api -Idaemon/lib
INC_api   := -Idaemon/api -Idaemon/store -Idaemon/lib
INC_ctl   := -Idaemon/ctl -Idaemon/io -Idaemon/lib
INC_ALL   := $(LAYERS:%=-Idaemon/%)
# $(call layer_cflags,SOURCE): a daemon/LAYER/ source gets its layer's view; tests see all.
layer_of = $(if $(filter daemon,$(firstword $(subst /, ,$1))),$(word 2,$(subst /, ,$1)))
layer_cflags = $(if $(filter lib,$(call layer_of,$1)),$(INC_lib) $(PURE_PC_CFLAGS),$(or \
	$(INC_$(call layer_of,$1)),$(INC_ALL)) $(PC_CFLAGS))
ALL_LDFLAGS = $(SAN_LDFLAGS) $(LDFLAGS)

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-7s %s\n' $(1) $(2)
endif

DAEMON_SRC := $(foreach l,$(LAYERS),$(wildcard daemon/$(l)/*.c))
CORE_SRC  := $(filter-out daemon/core/main.c daemon/ctl/refitctl.c,$(DAEMON_SRC))
CORE_OBJ  := $(CORE_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:%.c=$(BUILD)/%)
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%)
INTEG_SRC := $(wildcard tests/integration/test_*.c)
INTEG_BIN := $(INTEG_SRC:%.c=$(BUILD)/%)
BENCH_SRC := $(wildcard tests/bench/bench_*.c)
BENCH_BIN := $(BENCH_SRC:%.c=$(BUILD)/%)

.PHONY: all run check test unit integration fuzz fuzz-replay bench lint format deps chaos soak \
	install uninstall clean help valgrind deps-test fuzz-build integ-bin deb
.DEFAULT_GOAL := all
.SECONDARY:

all: $(BUILD)/refitd $(BUILD)/refitctl

$(BUILD)/%.o: %.c
	$(call msg,CC,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(filter $(BUILD)/daemon/lib/%,$(CORE_OBJ)): | $(BUILD)/poison/.stamp

$(BUILD)/poison/.stamp:
	@for h in $(POISON); do mkdir -p $(@D)/$$(dirname $$h); \
		echo "#error \"daemon/lib is pure: it may not include $$h (see the Makefile's LAYERS)\"" \
		>$(@D)/$$h; done
	@touch $@

$(BUILD)/libcore.a: $(CORE_OBJ)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

# The OpenAPI document, embedded into refitd (served at /v1/openapi.json).
$(BUILD)/gen/openapi_json.c: daemon/api/openapi.json
	$(call msg,GEN,$@)
	@mkdir -p $(@D)
	$(Q){ echo '#include <stddef.h>'; \
	  echo 'extern const char refit_openapi_json[];'; \
	  echo 'extern const size_t refit_openapi_json_len;'; \
	  echo 'const char refit_openapi_json[] = {'; \
	  od -An -v -tx1 $< | sed 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '0};'; \
	  echo 'const size_t refit_openapi_json_len = sizeof(refit_openapi_json) - 1;'; \
	} >$@.tmp && mv $@.tmp $@

$(BUILD)/gen/openapi_json.o: $(BUILD)/gen/openapi_json.c
	$(call msg,CC,$<)
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/refitd: $(BUILD)/daemon/core/main.o $(BUILD)/gen/openapi_json.o $(BUILD)/libcore.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PC_LIBS) -lm

$(BUILD)/refitctl: $(BUILD)/daemon/ctl/refitctl.o $(BUILD)/libcore.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PC_LIBS) -lm

$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(BUILD)/libcore.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) $(UNIT_LDFLAGS) -o $@ $^ $(PC_LIBS) $(CMOCKA_LIBS) -lm

# test_failalloc fails refit's own allocations in turn: they go through its wrappers
$(BUILD)/tests/unit/test_failalloc: UNIT_LDFLAGS = \
	-Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,--wrap=strndup \
	-Wl,--wrap=asprintf,--wrap=vasprintf

$(BUILD)/tests/integration/test_%: $(BUILD)/tests/integration/test_%.o \
		$(BUILD)/tests/integration/bed.o $(BUILD)/libcore.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PC_LIBS) $(CMOCKA_LIBS) -lm

$(BUILD)/tests/bench/%: $(BUILD)/tests/bench/%.o $(BUILD)/libcore.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PC_LIBS) -lm

# ---- deps: install missing Debian packages (as root), or say exactly how ----
DEB_BUILD := build-essential pkg-config clang libclang-rt-14-dev libuv1-dev \
	libcurl4-openssl-dev libjansson-dev libyaml-dev libsqlite3-dev libarchive-dev \
	libmicrohttpd-dev libsystemd-dev libcmocka-dev libssl-dev libnghttp2-dev
DEB_TEST  := docker.io docker-registry busybox-static apache2-utils python3 valgrind \
	curl dpkg-dev python3-cryptography wrk nginx-light prometheus chromium podman
DEB_TEST  += systemd systemd-container mandoc python3-yaml xz-utils lintian bash-completion python3-jsonschema sqlite3 e2fsprogs \
	openssh-server openssh-client
deps:
	@tests/testbed/deps.sh $(DEB_BUILD)

deps-test:
	@tests/testbed/deps.sh $(DEB_BUILD) $(DEB_TEST)

# ---- run ----
run: deps all
	$(BUILD)/refitd -c config/refit.yaml

# ---- tests ----
# check: unit tests under ASan+UBSan, fuzz corpora replayed, integration tests
# against real servers (dockerd, docker-registry, an HTTP server) on loopback.
check: deps-test
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/san SANITIZER=address,undefined all unit integ-bin
	@$(MAKE) --no-print-directory fuzz-replay
	@$(MAKE) --no-print-directory integration INTEG_BIN_DIR=$(BUILD)/san/tests/integration
	@echo "check: all tests passed"
test: check

unit: $(UNIT_BIN)
	@tests/run-unit.sh $(UNIT_BIN)

integ-bin: $(INTEG_BIN)

# C integration tests come from the sanitizer build when `check` runs them.
INTEG_BIN_DIR ?= $(BUILD)/tests/integration
integration: all
	@[ "$(INTEG_BIN_DIR)" != "$(BUILD)/tests/integration" ] || $(MAKE) --no-print-directory integ-bin
	@BUILD=$(BUILD) INTEG_BIN_DIR=$(INTEG_BIN_DIR) tests/integration/run.sh

valgrind: all
	@BUILD=$(BUILD) REFIT_VALGRIND=1 tests/integration/run.sh

# ---- fuzzing (libFuzzer, clang) ----
FUZZ_BUILD := $(BUILD)/fuzz
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 $(INC_ALL) $(PC_CFLAGS) -DREFIT_VERSION='"$(VERSION)"' \
	-fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_OBJ := $(CORE_SRC:daemon/%.c=$(FUZZ_BUILD)/obj/%.o)
# The modules are compiled once with coverage instrumentation, then each
# target links against them.
$(FUZZ_BUILD)/obj/%.o: daemon/%.c
	$(call msg,FUZZCC,$<)
	@mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(FUZZ_BUILD)/libfuzzcore.a: $(FUZZ_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_BUILD)/libfuzzcore.a
	$(call msg,FUZZ,$@)
	@mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_BUILD)/libfuzzcore.a \
		$(PC_LIBS) -lm

fuzz-build: $(FUZZ_NAMES:%=$(FUZZ_BUILD)/fuzz_%)

# Replays every corpus file once through its target (no new inputs generated).
fuzz-replay: fuzz-build
	@tests/fuzz/replay.sh $(FUZZ_BUILD) $(FUZZ_NAMES)

# make fuzz [FUZZ_SECONDS=600] [FUZZ_TARGETS="ref version"]: real fuzzing runs.
FUZZ_TARGETS ?= $(FUZZ_NAMES)
fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_BUILD)/corpus-$$t; \
		echo "fuzz $$t for $(FUZZ_SECONDS)s"; \
		$(FUZZ_BUILD)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			$(FUZZ_BUILD)/corpus-$$t tests/fuzz/corpus/$$t || exit 1; \
	done

# ---- benchmarks ----
DEB_BENCH := wrk nginx-light jq time
bench: all $(BENCH_BIN)
	@tests/testbed/deps.sh $(DEB_BUILD) $(DEB_TEST) $(DEB_BENCH)
	@BUILD=$(BUILD) tests/bench/run.sh

# ---- chaos and soak ----
# make chaos: every scenario of tests/chaos/run.sh (the list), full length, refitd under
# ASan+UBSan (REFIT_VALGRIND=1 with BUILD=build for valgrind instead). Their fast variants
# run in `make check` with the other integration tests.
chaos:
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/san SANITIZER=address,undefined all
	@BUILD=$(BUILD)/san REFIT_VALGRIND=$${REFIT_VALGRIND:-0} CHAOS_FULL=1 tests/chaos/run.sh

# make soak [SOAK_SECONDS=3600]: RSS, descriptors and loop lag under a churning base and feed.
soak: all
	@BUILD=$(BUILD) tests/bench/soak.sh

# ---- lint ----
LINT_FILES := $(wildcard daemon/*/*.c daemon/*/*.h tests/unit/*.c tests/unit/*.h tests/fuzz/*.c tests/bench/*.c)
lint:
	$(Q)clang-format --dry-run --Werror $(LINT_FILES)
	$(Q)mandoc -Tlint -Wwarning $(MAN_PAGES)
	$(Q)cppcheck --quiet --error-exitcode=1 --std=c11 --inline-suppr \
		--enable=warning,portability,performance --suppress=missingIncludeSystem \
		$(INC_ALL) daemon

format:
	$(Q)clang-format -i $(LINT_FILES)

# ---- install ----
# The unit and tmpfiles sources name the default paths (/usr/local/sbin,
# /etc/refit); they are rewritten here when SBINDIR or SYSCONFDIR differ.
SUBST_PATHS = sed -e 's|/usr/local/sbin/refitd|$(SBINDIR)/refitd|g' \
	-e 's|/etc/refit|$(SYSCONFDIR)/refit|g'
REFIT_ETC = $(DESTDIR)$(SYSCONFDIR)/refit
MAN_PAGES := systemd/refitd.8 systemd/refitctl.1 systemd/refit.yaml.5

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(BASHCOMPDIR)
	install -d -m 0750 $(REFIT_ETC)
	install -d -m 0700 $(REFIT_ETC)/credentials
	install -m 0755 $(BUILD)/refitd $(DESTDIR)$(SBINDIR)/refitd
	install -m 0755 $(BUILD)/refitctl $(DESTDIR)$(BINDIR)/refitctl
	$(SUBST_PATHS) systemd/refitd.service >$(BUILD)/refitd.service
	$(SUBST_PATHS) systemd/refit.tmpfiles >$(BUILD)/refit.tmpfiles
	install -m 0644 $(BUILD)/refitd.service systemd/refitd.socket $(DESTDIR)$(UNITDIR)/
	install -m 0644 systemd/refit.sysusers $(DESTDIR)$(SYSUSERSDIR)/refit.conf
	install -m 0644 $(BUILD)/refit.tmpfiles $(DESTDIR)$(TMPFILESDIR)/refit.conf
	install -m 0644 systemd/refitctl.1 $(DESTDIR)$(MANDIR)/man1/refitctl.1
	install -m 0644 systemd/refit.yaml.5 $(DESTDIR)$(MANDIR)/man5/refit.yaml.5
	install -m 0644 systemd/refitd.8 $(DESTDIR)$(MANDIR)/man8/refitd.8
	install -m 0644 systemd/refitctl.bash $(DESTDIR)$(BASHCOMPDIR)/refitctl
	@if [ -e $(REFIT_ETC)/refit.yaml ]; then \
		echo "install: keeping the existing $(REFIT_ETC)/refit.yaml"; \
	else \
		echo "install -m 0640 config/refit.yaml $(REFIT_ETC)/refit.yaml"; \
		install -m 0640 config/refit.yaml $(REFIT_ETC)/refit.yaml; \
	fi
	@# On the live system (no DESTDIR, as root): the user, then the permissions.
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v systemd-sysusers >/dev/null; then \
		echo "systemd-sysusers and systemd-tmpfiles --create: user refit, $(SYSCONFDIR)/refit"; \
		systemd-sysusers $(SYSUSERSDIR)/refit.conf && \
		systemd-tmpfiles --create $(TMPFILESDIR)/refit.conf; \
		if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi; \
	fi

# The configuration and the secrets are the admin's: refit.yaml goes only
# while it is the shipped example, credentials/ only when empty. The state
# (/var/lib/refit) and the user stay, as with a package removal.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/refitd $(DESTDIR)$(BINDIR)/refitctl \
		$(DESTDIR)$(UNITDIR)/refitd.service $(DESTDIR)$(UNITDIR)/refitd.socket \
		$(DESTDIR)$(SYSUSERSDIR)/refit.conf $(DESTDIR)$(TMPFILESDIR)/refit.conf \
		$(DESTDIR)$(MANDIR)/man1/refitctl.1 $(DESTDIR)$(MANDIR)/man5/refit.yaml.5 \
		$(DESTDIR)$(MANDIR)/man8/refitd.8 $(DESTDIR)$(BASHCOMPDIR)/refitctl
	@if cmp -s config/refit.yaml $(REFIT_ETC)/refit.yaml; then \
		echo "rm -f $(REFIT_ETC)/refit.yaml"; rm -f $(REFIT_ETC)/refit.yaml; \
	elif [ -e $(REFIT_ETC)/refit.yaml ]; then \
		echo "uninstall: keeping the changed $(REFIT_ETC)/refit.yaml"; \
	fi
	@rmdir $(REFIT_ETC)/credentials $(REFIT_ETC) 2>/dev/null || true

# ---- the Debian package ----
# make deb [DEB_VERSION=…]: $(BUILD)/refit_VERSION_ARCH.deb. Compiled in
# $(BUILD)/deb with dpkg-buildflags' hardening flags, staged by `make install
# PREFIX=/usr DESTDIR=`, packed by systemd/deb/mkdeb.sh (dpkg-shlibdeps,
# dpkg-gencontrol, dpkg-deb; the version from git describe).
DEB_DIR = $(BUILD)/deb
deb:
	@tests/testbed/deps.sh dpkg-dev
	$(Q)rm -rf $(DEB_DIR)/debian
	+$(Q)eval "$$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --export=sh)" && \
		$(MAKE) --no-print-directory BUILD=$(DEB_DIR) PREFIX=/usr SANITIZER= \
		CFLAGS="$$CPPFLAGS $$CFLAGS $(CFLAGS)" LDFLAGS="$$LDFLAGS $(LDFLAGS)" \
		DESTDIR=$(CURDIR)/$(DEB_DIR)/debian/refit install >$(DEB_DIR).log || \
		{ cat $(DEB_DIR).log; exit 1; }
	$(Q)DEB_VERSION=$(DEB_VERSION) systemd/deb/mkdeb.sh $(DEB_DIR)

clean:
	rm -rf $(BUILD)

help:
	@echo "targets: all run check unit integration chaos soak fuzz fuzz-replay bench lint format"
	@echo "         install uninstall deb clean valgrind   (V=1 verbose, CC=clang, SANITIZER=…)"

-include $(shell find $(BUILD) -name '*.d' -type f 2>/dev/null)
