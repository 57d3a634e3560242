/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Logging for the helper and the tools: one line per event, to stderr or
 * syslog.  Never pass key material here; SA events name peers, SPIs and
 * algorithms only.
 */
#ifndef AUTOSEC_LOG_H
#define AUTOSEC_LOG_H

enum as_log_level {
	AS_LOG_ERR = 3,
	AS_LOG_WARNING = 4,
	AS_LOG_NOTICE = 5,
	AS_LOG_INFO = 6,
	AS_LOG_DEBUG = 7,
};

/* ident: program name; to_syslog: 0 = stderr with a timestamp. */
void as_log_open(const char *ident, int to_syslog, int level);
void as_log_set_level(int level);
int as_log_level(void);
/* "err", "warning", "notice", "info", "debug" -> level, or -1. */
int as_log_parse_level(const char *name);
void as_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define as_err(...) as_log(AS_LOG_ERR, __VA_ARGS__)
#define as_warn(...) as_log(AS_LOG_WARNING, __VA_ARGS__)
#define as_notice(...) as_log(AS_LOG_NOTICE, __VA_ARGS__)
#define as_info(...) as_log(AS_LOG_INFO, __VA_ARGS__)
#define as_debug(...) as_log(AS_LOG_DEBUG, __VA_ARGS__)

#endif
