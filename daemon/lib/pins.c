#include "pins_impl.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "pkgdb.h"
#include "version.h"

int pins_fail(char *err, size_t errlen, int line, int rc, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(err, errlen, "%d: %s", line, msg);
	else
		snprintf(err, errlen, "%s", msg);
	return rc;
}

int pins_add(struct pins *p, const char *file, int line, int col, enum pins_eco eco,
             enum pins_op op, const char *name, const char *version)
{
	struct pin *x;
	int r = ARRAY_GROW(p->v, p->cap, p->n, PINS_MAX);

	if (r < 0)
		return r;
	x = &p->v[p->n];
	*x = (struct pin){strdup(file), line, col, eco, op, strdup(name), strdup(version)};
	if (!x->file || !x->name || !x->version) {
		free(x->file);
		free(x->name);
		free(x->version);
		return -ENOMEM;
	}
	p->n++;
	return 0;
}

int pins_add_include(struct pins *p, const char *path, size_t n, int line, bool constraint)
{
	void *v;

	if (p->n_inc >= PINS_MAX_INCLUDES)
		return -E2BIG;
	v = realloc(p->inc, (p->n_inc + 1) * sizeof(*p->inc));
	if (!v)
		return -ENOMEM;
	p->inc = v;
	p->inc[p->n_inc] = (struct pins_include){strndup(path, n), line, constraint};
	if (!p->inc[p->n_inc].path)
		return -ENOMEM;
	p->n_inc++;
	return 0;
}

static void includes_clear(struct pins *p)
{
	for (size_t i = 0; i < p->n_inc; i++)
		free(p->inc[i].path);
	free(p->inc);
	p->inc = NULL;
	p->n_inc = 0;
}

static void truncate_to(struct pins *p, size_t n)
{
	for (; p->n > n; p->n--) {
		struct pin *x = &p->v[p->n - 1];
		free(x->file);
		free(x->name);
		free(x->version);
	}
}

void pins_done(struct pins *p)
{
	truncate_to(p, 0);
	free(p->v);
	includes_clear(p);
	memset(p, 0, sizeof(*p));
}

int pins_format_of(const char *b)
{
	static const struct {
		const char *glob;
		enum pins_format f;
	} names[] = {
	        {"requirements*.txt", PINS_REQUIREMENTS},
	        {"*requirements.txt", PINS_REQUIREMENTS},
	        {"constraints*.txt", PINS_REQUIREMENTS},
	        {"pyproject.toml", PINS_PYPROJECT},
	        {"Pipfile", PINS_PIPFILE},
	        {"poetry.lock", PINS_POETRY_LOCK},
	        {"Pipfile.lock", PINS_PIPFILE_LOCK},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!fnmatch(names[i].glob, b, FNM_PERIOD))
			return (int)names[i].f;
	return -1;
}

const char *pins_format_name(enum pins_format f)
{
	static const char *const n[] = {"requirements", "pyproject",    "pipfile",
	                                "poetry-lock",  "pipfile-lock", "dockerfile"};

	return (unsigned)f < sizeof(n) / sizeof(n[0]) ? n[f] : "unknown";
}

int pins_parse(enum pins_format f, const char *file, const char *text, size_t len,
               const struct pins_opts *o, struct pins *p, char *err, size_t errlen)
{
	static const struct pins_opts none = {NULL, NULL};
	size_t n0 = p->n;
	int r;

	includes_clear(p);
	switch (f) {
	case PINS_REQUIREMENTS:
		r = pins_parse_requirements(file, text, len, p, err, errlen);
		break;
	case PINS_PYPROJECT:
	case PINS_PIPFILE:
	case PINS_POETRY_LOCK:
		r = pins_parse_toml(f, file, text, len, p, err, errlen);
		break;
	case PINS_PIPFILE_LOCK:
		r = pins_parse_pipfile_lock(file, text, len, p, err, errlen);
		break;
	case PINS_DOCKERFILE:
		r = pins_parse_dockerfile(file, text, len, o ? o : &none, p, err, errlen);
		break;
	default:
		r = pins_fail(err, errlen, 0, -EINVAL, "unknown format");
	}
	if (r < 0) {
		truncate_to(p, n0);
		includes_clear(p);
	}
	return r;
}

/* ---- one PEP 508 requirement ---- */

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.';
}

static size_t skip_blank(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i;
}

/* The operator at s[i]: its length, 0 for none; *op_out is 0 ==, 1 ===, 2 ~=, 3 other. */
static size_t spec_op(const char *s, size_t n, size_t i, int *op_out)
{
	static const char *const ops[] = {"===", "==", "~=", "!=", "<=", ">=", "<", ">"};
	static const int kinds[] = {1, 0, 2, 3, 3, 3, 3, 3};

	for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
		size_t m = strlen(ops[k]);
		if (n - i >= m && !memcmp(s + i, ops[k], m)) {
			*op_out = kinds[k];
			return m;
		}
	}
	return 0;
}

/* One "OP VERSION" clause at s[i]; records it in ret when it pins. Returns the index after it. */
static size_t spec_clause(const char *s, size_t n, size_t i, struct pins_req *ret, bool *ok)
{
	int kind;
	size_t m = spec_op(s, n, i, &kind), v;
	char ver[PINS_MAX_VERSION];

	*ok = m > 0;
	if (!m)
		return i;
	i = v = skip_blank(s, n, i + m);
	while (i < n && !strchr(" \t,;)", s[i]))
		i++;
	if (i == v || i - v >= sizeof(ver)) {
		*ok = false;
		return i;
	}
	memcpy(ver, s + v, i - v);
	ver[i - v] = '\0';
	if (kind == 3 || (ret->pinned && ret->op == PINS_EXACT))
		return i;
	if (kind == 1 || (version_valid(VERSION_PYPI, ver) == 0 && !strchr(ver, '*'))) {
		ret->pinned = true;
		ret->op = kind == 2 ? PINS_COMPATIBLE : PINS_EXACT;
		memcpy(ret->version, ver, i - v + 1);
	}
	return i;
}

/* Skips "[extras]" at s[i]; false when it does not close. */
static bool skip_extras(const char *s, size_t n, size_t *i)
{
	if (*i >= n || s[*i] != '[')
		return true;
	while (*i < n && s[*i] != ']')
		(*i)++;
	if (*i >= n)
		return false;
	(*i)++;
	return true;
}

void pins_req_spec(const char *s, size_t n, struct pins_req *ret)
{
	char raw[PKGDB_NAME_MAX + 1];
	size_t i = skip_blank(s, n, 0), start = i;
	bool ok = true;

	memset(ret, 0, sizeof(*ret));
	while (i < n && name_char(s[i]))
		i++;
	if (i == start || i - start > PKGDB_NAME_MAX)
		return;
	memcpy(raw, s + start, i - start);
	raw[i - start] = '\0';
	ret->name_at = start;
	i = skip_blank(s, n, i);
	if (!skip_extras(s, n, &i))
		return;
	i = skip_blank(s, n, i);
	if (i < n && s[i] == '(')
		i++;
	for (;;) {
		i = spec_clause(s, n, skip_blank(s, n, i), ret, &ok);
		if (!ok)
			break;
		i = skip_blank(s, n, i);
		if (i >= n || s[i] != ',')
			break;
		i++;
	}
	/* what follows (")", markers, --hash options) does not change the pin */
	if (ret->pinned && !pkgdb_pep503(raw, ret->name, sizeof(ret->name)))
		ret->pinned = false;
}

/* ---- matching ---- */

static enum version_eco eco_of(enum pins_eco e)
{
	return e == PINS_PYPI ? VERSION_PYPI : e == PINS_DEB ? VERSION_DEBIAN : VERSION_ALPINE;
}

static bool same_version(enum pins_eco e, const char *a, const char *b)
{
	int c;

	return !strcmp(a, b) || (version_cmp(eco_of(e), a, b, &c) == 0 && c == 0);
}

/* The exclusive upper bound of ~=V (PEP 440): V's release without its last part, the new
 * last part plus one ("2.25.0" -> "2.26"); false when V has fewer than two parts. */
static bool compatible_upper(const char *v, char *out, size_t n)
{
	const char *bang = strchr(v, '!'), *rel = bang ? bang + 1 : v, *last = NULL, *p = rel;
	unsigned long long part;
	size_t keep;

	while (*p >= '0' && *p <= '9') {
		const char *q = p + strspn(p, "0123456789");
		if (*q != '.' || !(q[1] >= '0' && q[1] <= '9'))
			break;
		last = p;
		p = q + 1;
	}
	if (!last) /* fewer than two parts */
		return false;
	part = strtoull(last, NULL, 10);
	keep = (size_t)(last - v);
	return (size_t)snprintf(out, n, "%.*s%llu", (int)keep, v, part + 1) < n;
}

static bool compatible_holds(const struct pin *x, const char *installed, const char *fixed)
{
	char upper[PINS_MAX_VERSION + 24];
	int lo, hi, fx;

	if (!fixed || !compatible_upper(x->version, upper, sizeof(upper)))
		return false;
	if (version_cmp(VERSION_PYPI, installed, x->version, &lo) < 0 ||
	    version_cmp(VERSION_PYPI, installed, upper, &hi) < 0 ||
	    version_cmp(VERSION_PYPI, fixed, upper, &fx) < 0)
		return false;
	return lo >= 0 && hi < 0 && fx >= 0;
}

const struct pin *pins_holding(const struct pins *p, enum pins_eco eco, const char *name,
                               const char *installed, const char *fixed)
{
	char norm[PINS_MAX_NAME];

	if (!p || !name || !installed)
		return NULL;
	if (eco == PINS_PYPI) {
		if (!pkgdb_pep503(name, norm, sizeof(norm)))
			return NULL;
		name = norm;
	}
	for (size_t i = 0; i < p->n; i++) {
		const struct pin *x = &p->v[i];
		if (x->eco != eco || strcmp(x->name, name))
			continue;
		if (x->op == PINS_EXACT ? same_version(eco, x->version, installed)
		                        : compatible_holds(x, installed, fixed))
			return x;
	}
	return NULL;
}
