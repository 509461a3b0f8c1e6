/*
 * libFuzzer target: creds' parsers of outside input — Docker's config.json
 * (asked for several hosts), a credential helper's output, base64 and host
 * names — plus a round trip of every entry they yield through the
 * X-Registry-Auth encoder and back through base64url and jansson.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base64.h"
#include "creds.h"
#include "creds_parse.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Encodes e as X-Registry-Auth and checks that it decodes to what went in. */
static void round_trip(const struct creds_entry *e)
{
	struct creds_host_entry he = {"ghcr.io", e};
	unsigned char *buf;
	char *v = NULL;
	size_t n;
	json_t *j, *utf8;

	if (creds_x_registry_auth(e, "docker.io", &v) < 0)
		return;
	buf = malloc(BASE64_DECODED_MAX(strlen(v)));
	if (!buf || base64_decode(v, strlen(v), true, buf, BASE64_DECODED_MAX(strlen(v)), &n) < 0)
		abort();
	/* Always JSON; the password intact whenever it was UTF-8 (else U+FFFD stands in). */
	j = json_loadb((const char *)buf, n, 0, NULL);
	utf8 = e->secret ? json_string(e->secret) : NULL;
	if (!j || (e->kind == CREDS_BASIC && utf8 &&
	           strcmp(json_string_value(json_object_get(j, "password")), e->secret)))
		abort();
	json_decref(utf8);
	json_decref(j);
	free(buf);
	creds_secret_free(v);
	if (creds_x_registry_config(&he, 1, &v) == 0)
		creds_secret_free(v);
}

static void check_entry(const struct creds_entry *e)
{
	if ((e->kind == CREDS_ANONYMOUS) != (e->secret == NULL))
		abort();
	if (e->kind == CREDS_BASIC && !e->username)
		abort();
	round_trip(e);
}

static void fuzz_dockercfg(const char *text, size_t len)
{
	static const char *const hosts[] = {"docker.io", "ghcr.io", "localhost:5000", "quay.io"};
	struct creds_dockercfg cfg;
	char err[256];

	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		if (creds_parse_dockercfg(text, len, hosts[i], &cfg, err, sizeof(err)) < 0)
			continue;
		if (cfg.helper[0] && cfg.entry.kind != CREDS_ANONYMOUS)
			abort();
		check_entry(&cfg.entry);
		creds_entry_done(&cfg.entry);
	}
}

static void fuzz_base64(const char *text, size_t len, bool url)
{
	unsigned char *out = malloc(BASE64_DECODED_MAX(len)), *again;
	size_t n, m;
	char *enc;

	if (!out || base64_decode(text, len, url, out, BASE64_DECODED_MAX(len), &n) < 0) {
		free(out);
		return;
	}
	enc = base64_encode(out, n, url);
	again = enc ? malloc(BASE64_DECODED_MAX(strlen(enc))) : NULL;
	if (!enc || !again ||
	    base64_decode(enc, strlen(enc), url, again, BASE64_DECODED_MAX(strlen(enc)), &m) < 0 ||
	    m != n || memcmp(out, again, n))
		abort();
	free(again);
	free(enc);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct creds_entry e;
	char err[256], host[CREDS_HOST_MAX], name[400];

	log_setup(LOG_LVL_ERR, LOG_FMT_TEXT, false);
	fuzz_dockercfg(text, size);
	if (creds_parse_helper_output(text, size, &e, err, sizeof(err)) == 0) {
		check_entry(&e);
		creds_entry_done(&e);
	}
	fuzz_base64(text, size, false);
	fuzz_base64(text, size, true);
	memcpy(name, text, size < sizeof(name) - 1 ? size : sizeof(name) - 1);
	name[size < sizeof(name) - 1 ? size : sizeof(name) - 1] = '\0';
	if (creds_canon_host(name, host, sizeof(host)) == 0 && !*host)
		abort();
	return 0;
}
