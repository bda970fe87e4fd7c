/*
 * log.h - one line per event on stderr, key=value fields:
 *   level=warn run=42 task=web-01 msg="sandbox exited" status=137
 * Library code logs at debug level at most; errors are returned, not
 * logged. Secrets never reach these functions.
 */
#ifndef ASSAY_LOG_H
#define ASSAY_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_QUIET };

void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
