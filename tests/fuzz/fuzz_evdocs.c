/*
 * fuzz_evdocs — libFuzzer target for the evidence documents (sbom,
 * provenance, vex, pkgdiff) over arbitrary strings: trigger reasons carry
 * text given to POST /v1/projects/NAME/rebuild, and package fields come from
 * the databases of untrusted images.
 *
 * Input: lines. The first is the reasons ('\x1e' stands for a newline);
 * "P\teco\tname\tversion\tsource\tarch\tlicense" adds a package (to this
 * image, or with "Q" to the previous one); "A\tid\tpackage\teco\tinstalled\t
 * fixed\tstate" an advisory match. Every document either fails as a whole
 * (NULL: only for a missing digest or no statements) or serialises to JSON
 * that parses back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pkgdiff.h"
#include "provenance.h"
#include "sbom.h"
#include "vex.h"

#define MAX_ITEMS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_doc(json_t *d)
{
	char *s;
	json_t *back;

	if (!d)
		return;
	s = json_dumps(d, JSON_COMPACT);
	if (!s)
		abort();
	back = json_loads(s, 0, NULL);
	if (!back)
		abort();
	json_decref(back);
	free(s);
	json_decref(d);
}

/* Splits line at tabs into up to n fields (NULL past the end, "" kept). */
static void fields(char *line, const char **f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		f[i] = line;
		if (line) {
			line = strchr(line, '\t');
			if (line)
				*line++ = '\0';
		}
	}
}

static void noop(const char *id, size_t n, void *arg)
{
	(void)id;
	(void)n;
	(void)arg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct evdoc_pkg pk[MAX_ITEMS], prev[MAX_ITEMS];
	struct evdoc_advisory adv[MAX_ITEMS];
	struct evdoc_build b = {.id = 1,
	                        .project = "p",
	                        .env = "prod",
	                        .repository = "r/p",
	                        .digest = "sha256:00000000000000000000000000000000000000000000"
	                                  "00000000000000000000",
	                        .trigger = "security",
	                        .have_inventory = true,
	                        .pkgs = pk,
	                        .prev_pkgs = prev,
	                        .advisories = adv,
	                        .prev_id = 1};
	char *text = malloc(size + 1), *line, *save = NULL;
	json_t *d = NULL;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	line = strtok_r(text, "\n", &save);
	b.reasons = line ? line : "";
	for (char *p = line; p && *p; p++)
		if (*p == '\x1e')
			*p = '\n';
	while ((line = strtok_r(NULL, "\n", &save))) {
		const char *f[7];
		fields(line + 1, f, 7);
		if (!f[1] || !f[2])
			continue;
		if ((line[0] == 'P' || line[0] == 'Q') && b.n_pkgs < MAX_ITEMS &&
		    b.n_prev_pkgs < MAX_ITEMS) {
			struct evdoc_pkg x = {f[0], f[1], f[2], f[3], f[3], f[4], f[5]};
			if (line[0] == 'P')
				pk[b.n_pkgs++] = x;
			else
				prev[b.n_prev_pkgs++] = x;
		} else if (line[0] == 'A' && b.n_advisories < MAX_ITEMS && f[5]) {
			adv[b.n_advisories++] = (struct evdoc_advisory){
			        f[0], f[1], f[2], f[3], *f[4] ? f[4] : NULL, f[5]};
		}
	}
	provenance_reason_advisories(b.reasons, noop, NULL);
	check_doc(sbom_spdx(&b));
	check_doc(sbom_cyclonedx(&b));
	d = provenance_statement(&b);
	if (!d)
		abort(); /* it has a digest */
	check_doc(d);
	d = NULL;
	if (vex_document(&b, &d) == 0)
		check_doc(d);
	else if (b.n_advisories)
		abort();
	check_doc(pkgdiff_json(&b));
	free(text);
	return 0;
}
