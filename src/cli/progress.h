/*
 * progress.h - the progress display of `assay run`, `resume` and `task
 * check`, fed by the engine's progress callback (the engine never prints).
 *
 *   bar   on a terminal: one line redrawn in place, at most 4 times a
 *         second, and once more at the end; cut to the terminal's width
 *         (a wrapped line could not be redrawn)
 *   line  off a terminal: a plain line every 30 s (logs, CI)
 *   none  nothing
 */
#ifndef ASSAY_CLI_PROGRESS_H
#define ASSAY_CLI_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/engine.h"

enum progress_mode { PROGRESS_AUTO, PROGRESS_NONE, PROGRESS_LINE, PROGRESS_BAR };

#define PROGRESS_BAR_MS 250         /* at most 4 redraws a second */
#define PROGRESS_LINE_MS 30000      /* a plain line every 30 s */

struct progress_view {
	enum progress_mode mode;    /* resolved: never AUTO */
	FILE *out;
	int64_t last_draw_ms;       /* -1: never drawn */
	double eta_s;               /* smoothed; < 0 unknown */
	int64_t eta_ms;             /* when eta_s was last updated */
	bool drawn;                 /* a bar is on the line (to end it) */
	int width;                  /* the terminal's columns; 0 unknown */
	int64_t (*clock)(void);     /* monotonic ms; now_ms by default */
};

/* "none", "line" or "bar" (false otherwise). */
bool cli_progress_mode_parse(const char *s, enum progress_mode *out);
/* AUTO: bar on a terminal, line off one; --quiet and --json: none. */
enum progress_mode cli_progress_mode_resolve(enum progress_mode m, bool quiet,
					     bool json, bool tty);

void cli_progress_view_init(struct progress_view *v,
			    enum progress_mode resolved, FILE *out);
/* The engine callback (arg: a struct progress_view). */
void cli_progress_view_update(void *arg, const struct engine_progress *p);

/* Seconds left from the rate so far, counting a running episode as half
 * done; < 0 when nothing has finished yet. */
double cli_progress_eta_raw(const struct engine_progress *p);
/* Fold a new raw estimate in at time now_ms: the previous estimate counts
 * down with the clock and moves toward the raw one with a 10 s time
 * constant, so one fast or slow episode does not make it jump. */
void cli_progress_eta_fold(struct progress_view *v, double raw, int64_t now_ms);
/* The progress line, without terminal control. */
void cli_progress_format(const struct engine_progress *p, double eta_s,
			 char *buf, size_t n);

#endif
