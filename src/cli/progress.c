/*
 * progress.c - draws the engine's progress reports (progress.h).
 */
#include "cli/progress.h"

#include <math.h>
#include <string.h>
#include <sys/ioctl.h>

#include "base/util.h"
#include "base/banned.h"

#define ETA_TAU_S 10.0

bool cli_progress_mode_parse(const char *s, enum progress_mode *out)
{
	static const char *const names[] = { "none", "line", "bar" };
	static const enum progress_mode modes[] = { PROGRESS_NONE,
		PROGRESS_LINE, PROGRESS_BAR };

	for (size_t i = 0; s && i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i])) {
			*out = modes[i];
			return true;
		}
	return false;
}

enum progress_mode cli_progress_mode_resolve(enum progress_mode m, bool quiet,
					     bool json, bool tty)
{
	if (m != PROGRESS_AUTO)
		return m;
	if (quiet || json)
		return PROGRESS_NONE;
	return tty ? PROGRESS_BAR : PROGRESS_LINE;
}

static int64_t default_clock(void)
{
	return now_ms();
}

void cli_progress_view_init(struct progress_view *v,
			    enum progress_mode resolved, FILE *out)
{
	memset(v, 0, sizeof(*v));
	v->mode = resolved == PROGRESS_AUTO ? PROGRESS_LINE : resolved;
	v->out = out;
	v->last_draw_ms = -1;
	v->eta_s = -1;
	v->clock = default_clock;
	if (out && v->mode == PROGRESS_BAR) {
		struct winsize ws;
		if (ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
			v->width = ws.ws_col;
	}
}

double cli_progress_eta_raw(const struct engine_progress *p)
{
	double done = p->finished + 0.5 * p->running, left;

	if (p->finished <= 0 || p->elapsed_ms <= 0)
		return -1;
	if (done > p->planned)
		done = p->planned;
	left = p->planned - done;
	if (left <= 0)
		return 0;
	return left * (p->elapsed_ms / 1000.0) / done;
}

void cli_progress_eta_fold(struct progress_view *v, double raw, int64_t now_ms)
{
	double dt, pred, a;

	if (raw < 0)
		return;
	if (v->eta_s < 0) {
		v->eta_s = raw;
		v->eta_ms = now_ms;
		return;
	}
	dt = (now_ms - v->eta_ms) / 1000.0;
	if (dt <= 0)
		return;
	pred = v->eta_s - dt > 0 ? v->eta_s - dt : 0;
	a = 1 - exp(-dt / ETA_TAU_S);
	v->eta_s = pred + a * (raw - pred);
	v->eta_ms = now_ms;
}

static void duration(double s, char *buf, size_t n)
{
	long t = (long)(s + 0.5);

	if (t >= 3600)
		snprintf(buf, n, "%ldh%02ldm", t / 3600, t / 60 % 60);
	else
		snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
}

void cli_progress_format(const struct engine_progress *p, double eta_s,
			 char *buf, size_t n)
{
	char el[32], eta[32] = "--", retried[32] = "";

	duration(p->elapsed_ms / 1000.0, el, sizeof(el));
	if (p->final || p->finished >= p->planned)
		snprintf(eta, sizeof(eta), "0m00s");
	else if (eta_s >= 0)
		duration(eta_s, eta, sizeof(eta));
	if (p->retried)
		snprintf(retried, sizeof(retried), " (%d retried)", p->retried);
	snprintf(buf, n, "[assay] done %d/%d  running %d  solved %d  errors: "
		 "model %d, infra %d%s  tokens %ld  $%.4f  elapsed %s  ETA %s",
		 p->finished, p->planned, p->running, p->solved,
		 p->failed_model, p->failed_infra, retried, p->tokens,
		 p->cost_usd, el, eta);
}

void cli_progress_view_update(void *arg, const struct engine_progress *p)
{
	struct progress_view *v = arg;
	int64_t now = v->clock();
	int64_t every = v->mode == PROGRESS_BAR ? PROGRESS_BAR_MS :
			PROGRESS_LINE_MS;
	char line[512];

	if (v->mode == PROGRESS_NONE || !v->out)
		return;
	if (!p->final && v->last_draw_ms >= 0 && now - v->last_draw_ms < every)
		return;
	if (v->last_draw_ms < 0 && v->mode == PROGRESS_LINE && !p->final) {
		v->last_draw_ms = now;      /* the first line after 30 s */
		return;
	}
	if (p->final && v->mode == PROGRESS_LINE)
		return;                     /* the summary follows */
	cli_progress_eta_fold(v, cli_progress_eta_raw(p), now);
	cli_progress_format(p, v->eta_s, line, sizeof(line));
	v->last_draw_ms = now;
	if (v->mode == PROGRESS_BAR) {
		/* a wrapped line could not be redrawn in place */
		if (v->width && strlen(line) >= (size_t)v->width)
			line[v->width - 1] = '\0';
		fprintf(v->out, "\r\033[K%s%s", line, p->final ? "\n" : "");
		v->drawn = !p->final;
	} else {
		fprintf(v->out, "%s\n", line);
	}
	fflush(v->out);
}
