/*
 * refitctl ref [REF]... — parses image references and prints one compact JSON
 * object per reference, keys in a fixed order:
 *   {"input","valid":true,"domain","path","tag","digest","name","familiar"}
 *   {"input","valid":false,"error"}
 * tag/digest are null when absent; familiar carries ":latest" when the input
 * had neither tag nor digest. Without REF, one reference per stdin line.
 */
#include "ctl.h"
#include "ref.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest stdin line looked at; longer lines are reported invalid, not parsed. */
#define LINE_MAX_BYTES 4096

enum { RESULT_VALID, RESULT_INVALID, RESULT_ERROR };

/* The input echoed back: exact when it is UTF-8, otherwise every non-ASCII byte
 * becomes U+FFFD so the output stays valid JSON. */
static json_t *input_json(const char *s, size_t n)
{
	static const char replacement[] = "\xef\xbf\xbd";
	char buf[3 * LINE_MAX_BYTES];
	size_t pos = 0;
	json_t *j = json_stringn(s, n);

	if (j)
		return j;
	if (n > LINE_MAX_BYTES)
		n = LINE_MAX_BYTES;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x80) {
			buf[pos++] = s[i];
			continue;
		}
		memcpy(buf + pos, replacement, 3);
		pos += 3;
	}
	return json_stringn(buf, pos);
}

static json_t *nullable_string(const char *s)
{
	return *s ? json_string(s) : json_null();
}

/* Fills the fields of a valid reference; returns 0 or -1 when out of memory. */
static int add_fields(json_t *o, const struct image_ref *r)
{
	char name[REF_STRING_MAX], familiar[REF_STRING_MAX];
	struct image_ref tagged = *r;

	ref_tag_name_only(&tagged);
	if (ref_name(r, name, sizeof(name)) < 0 ||
	    ref_familiar(&tagged, familiar, sizeof(familiar)) < 0)
		return -1;
	if (json_object_set_new(o, "valid", json_true()) ||
	    json_object_set_new(o, "domain", json_string(r->domain)) ||
	    json_object_set_new(o, "path", json_string(r->path)) ||
	    json_object_set_new(o, "tag", nullable_string(r->tag)) ||
	    json_object_set_new(o, "digest", nullable_string(r->digest)) ||
	    json_object_set_new(o, "name", json_string(name)) ||
	    json_object_set_new(o, "familiar", json_string(familiar)))
		return -1;
	return 0;
}

static int add_error(json_t *o, const char *err)
{
	if (json_object_set_new(o, "valid", json_false()) ||
	    json_object_set_new(o, "error", json_string(err)))
		return -1;
	return 0;
}

static int print_object(const json_t *o)
{
	char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	int rc = 0;

	if (!text)
		return -1;
	if (puts(text) == EOF)
		rc = -1;
	free(text);
	return rc;
}

/* Reports one input of n bytes; a too-long line is passed with truncated set. */
static int report(const char *s, size_t n, bool truncated)
{
	const char *err = NULL;
	struct image_ref r;
	json_t *o = json_object();
	int result = RESULT_ERROR;

	if (!o || json_object_set_new(o, "input", input_json(s, n)))
		goto out;
	if (truncated)
		err = "line longer than 4096 bytes";
	else if (memchr(s, '\0', n))
		err = "reference contains a NUL byte";
	else
		ref_parse(s, &r, &err);
	if (err ? add_error(o, err) : add_fields(o, &r))
		goto out;
	if (print_object(o) == 0)
		result = err ? RESULT_INVALID : RESULT_VALID;
out:
	json_decref(o);
	return result;
}

/* Reads one line into buf (LINE_MAX_BYTES + 1 bytes), dropping what does not fit;
 * returns false at end of input. */
static bool read_line(FILE *f, char *buf, size_t *ret_n, bool *ret_truncated)
{
	size_t n = 0;
	bool truncated = false;
	int c;

	while ((c = getc(f)) != EOF && c != '\n') {
		if (n < LINE_MAX_BYTES)
			buf[n++] = (char)c;
		else
			truncated = true;
	}
	if (c == EOF && n == 0 && !truncated)
		return false;
	if (!truncated && n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	*ret_n = n;
	*ret_truncated = truncated;
	return true;
}

static int worst(int a, int b)
{
	return a > b ? a : b;
}

static int run_stdin(void)
{
	char line[LINE_MAX_BYTES + 1];
	size_t n;
	bool truncated;
	int result = RESULT_VALID;

	while (result != RESULT_ERROR && read_line(stdin, line, &n, &truncated))
		result = worst(result, report(line, n, truncated));
	if (ferror(stdin)) {
		perror("refitctl ref: stdin");
		result = RESULT_ERROR;
	}
	return result;
}

int ctl_ref(int argc, char **argv)
{
	int i = 1, result = RESULT_VALID;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("usage: refitctl ref [REF]...\n"
		       "Parses and normalises image references, one JSON object per line.\n"
		       "Without REF, reads one reference per line from standard input.\n");
		return CTL_OK;
	}
	if (argc > 1 && !strcmp(argv[1], "--"))
		i++;
	if (i >= argc)
		result = run_stdin();
	for (; i < argc && result != RESULT_ERROR; i++)
		result = worst(result, report(argv[i], strlen(argv[i]), false));
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("refitctl ref: stdout");
		return CTL_FAIL;
	}
	if (result == RESULT_ERROR)
		fprintf(stderr, "refitctl ref: out of memory\n");
	return result == RESULT_VALID ? CTL_OK : CTL_FAIL;
}
