/*
 * log — levelled logging to stderr.
 *
 * Under systemd each line carries the journald priority prefix "<N>"; with
 * log_format json one JSON object per line is written instead. Secrets are
 * never passed to these functions: callers log names of files, not contents.
 */
#ifndef REFIT_LOG_H
#define REFIT_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum log_level { LOG_LVL_ERR = 3, LOG_LVL_WARN = 4, LOG_LVL_INFO = 6, LOG_LVL_DEBUG = 7 };
enum log_format { LOG_FMT_TEXT, LOG_FMT_JSON };

/* Sets the most verbose level printed and the output format. */
void log_setup(enum log_level max, enum log_format fmt, bool journald_prefix);

__attribute__((format(printf, 2, 3))) void log_msg(enum log_level lvl, const char *fmt, ...);
__attribute__((format(printf, 2, 0))) void log_vmsg(enum log_level lvl, const char *fmt,
                                                    va_list ap);

#define log_err(...)   log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
