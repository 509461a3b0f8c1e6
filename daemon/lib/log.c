#include "log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/*
 * The only process-wide state in refit: the logging sink's settings, written
 * once at start-up (and on reload) from the loop thread.
 */
static struct {
	enum log_level max;
	enum log_format fmt;
	bool prefix;
} log_cfg = {LOG_LVL_INFO, LOG_FMT_TEXT, false};

void log_setup(enum log_level max, enum log_format fmt, bool journald_prefix)
{
	log_cfg.max = max;
	log_cfg.fmt = fmt;
	log_cfg.prefix = journald_prefix;
}

static const char *level_name(enum log_level lvl)
{
	switch (lvl) {
	case LOG_LVL_ERR:
		return "error";
	case LOG_LVL_WARN:
		return "warning";
	case LOG_LVL_INFO:
		return "info";
	case LOG_LVL_DEBUG:
		return "debug";
	}
	return "info";
}

/* Writes s as a JSON string body (no quotes), escaping what JSON requires. */
static void json_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
}

void log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
{
	char buf[2048];
	struct timespec ts;
	struct tm tm;
	char when[32];

	if (lvl > log_cfg.max)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (log_cfg.fmt == LOG_FMT_JSON) {
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		if (log_cfg.prefix)
			fprintf(stderr, "<%d>", (int)lvl);
		fprintf(stderr, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"msg\":\"", when,
		        ts.tv_nsec / 1000000, level_name(lvl));
		json_escape(stderr, buf);
		fputs("\"}\n", stderr);
	} else if (log_cfg.prefix) {
		fprintf(stderr, "<%d>%s\n", (int)lvl, buf);
	} else {
		fprintf(stderr, "refitd: %s: %s\n", level_name(lvl), buf);
	}
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lvl, fmt, ap);
	va_end(ap);
}
