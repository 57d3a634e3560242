/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

#include "autosec/log.h"

static const char *log_ident = "autosec";
static int log_syslog;
static int log_max = AS_LOG_NOTICE;

static const char *const level_names[] = {
	[AS_LOG_ERR] = "err", [AS_LOG_WARNING] = "warning", [AS_LOG_NOTICE] = "notice",
	[AS_LOG_INFO] = "info", [AS_LOG_DEBUG] = "debug",
};

void as_log_open(const char *ident, int to_syslog, int level)
{
	log_ident = ident;
	log_syslog = to_syslog;
	log_max = level;
	if (to_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void as_log_set_level(int level)
{
	log_max = level;
}

int as_log_level(void)
{
	return log_max;
}

int as_log_parse_level(const char *name)
{
	for (int i = AS_LOG_ERR; i <= AS_LOG_DEBUG; i++)
		if (!strcasecmp(name, level_names[i]))
			return i;
	return -1;
}

void as_log(int level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (level > log_max)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_syslog) {
		syslog(level, "%s", line);
	} else {
		struct timespec ts;
		struct tm tm;
		char when[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ld %s[%s]: %s\n", when, ts.tv_nsec / 1000000, log_ident,
			level >= AS_LOG_ERR && level <= AS_LOG_DEBUG ? level_names[level] : "?", line);
	}
}
