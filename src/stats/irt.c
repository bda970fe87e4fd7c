/*
 * irt.c - two-parameter logistic item response model fitted jointly over
 * runs (Birnbaum 1968, in Lord & Novick, "Statistical Theories of Mental
 * Test Scores"; reference doc §d: P = sigma(a_j (theta - b_j))).
 *
 * Run r on task j: y_rj successes out of n_rj epochs, binomial with
 * p_rj = sigma(eta_rj), eta_rj = a_j (theta_r - b_j), a_j = exp(alpha_j).
 * Maximum a posteriori with priors
 *   theta_r ~ N(0, theta_sd^2), b_j ~ N(0, b_sd^2), alpha_j ~ N(0, loga_sd^2)
 * (the usual weakly informative 2PL priors, e.g. Bürkner, "Bayesian Item
 * Response Modeling in R with brms and Stan", J. Stat. Softw. 100(5), 2021).
 * The likelihood alone is invariant under theta -> c theta + d,
 * b -> c b + d, a -> a / c; the priors pin location and scale, and make
 * every estimate finite even for tasks every run solves or fails.
 *
 * Optimiser: Newton with the Fisher information (Fisher scoring) and step
 * halving on the log posterior. The information is block structured
 * (diagonal in theta, 2x2 blocks per item), so the item blocks are
 * eliminated with a Schur complement and only an R x R system is solved:
 * O(R^2 J) per iteration instead of O((R + 2J)^3). The inverse of that
 * Schur complement is the theta block of the inverse information, i.e.
 * the Laplace posterior covariance of theta with item uncertainty
 * integrated out (Tierney & Kadane, JASA 81, 1986).
 */
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "base/banned.h"

#define IRT_MAX_CELLS ((size_t)1 << 26)

struct irt {
	size_t R, J;
	double *y, *n;              /* R x J, n = 0 where not attempted */
	double *par;                /* theta[R], alpha[J], b[J] */
	const char **ids;           /* J task ids (borrowed) */
	size_t *nruns;              /* J */
	struct stats_irt_opts o;
	double *g;                  /* gradient, same layout as par */
	double *iblk;               /* J x 3 item information (aa, ab, bb) */
	double *S;                  /* R x R Schur complement */
	double *step, *trial;
};

#define THETA(m) ((m)->par)
#define ALPHA(m) ((m)->par + (m)->R)
#define BETA(m) ((m)->par + (m)->R + (m)->J)

struct idref {
	const char *id;
	size_t run, task;
};

static int cmp_idref(const void *pa, const void *pb)
{
	const struct idref *a = pa, *b = pb;

	return strcmp(a->id, b->id);
}

static struct idref *collect(const struct stats_run *const *runs, size_t R,
			     size_t *total_out)
{
	size_t total = 0, k = 0;
	struct idref *all;

	for (size_t r = 0; r < R; r++)
		total += runs[r]->ntasks;
	all = xcalloc(total + 1, sizeof(*all));
	for (size_t r = 0; r < R; r++)
		for (size_t i = 0; i < runs[r]->ntasks; i++)
			all[k++] = (struct idref){ runs[r]->tasks[i].id, r, i };
	qsort(all, total, sizeof(*all), cmp_idref);
	*total_out = total;
	return all;
}

static size_t count_items(const struct idref *all, size_t total)
{
	size_t J = 0;

	for (size_t k = 0; k < total; k++)
		J += k == 0 || strcmp(all[k - 1].id, all[k].id) != 0;
	return J;
}

/* Cells y, n from the sorted (task id, run) list. */
static void fill_cells(struct irt *m, const struct stats_run *const *runs,
		       const struct idref *all, size_t total)
{
	size_t j = 0;

	for (size_t k = 0; k < total; k++) {
		const struct stats_task *t = &runs[all[k].run]->tasks[all[k].task];
		if (k > 0 && strcmp(all[k - 1].id, all[k].id) != 0)
			j++;
		m->ids[j] = all[k].id;
		m->y[all[k].run * m->J + j] = t->successes;
		m->n[all[k].run * m->J + j] = t->epochs;
		m->nruns[j]++;
	}
}

static void alloc_model(struct irt *m)
{
	size_t P = m->R + 2 * m->J;

	m->y = xcalloc(m->R * m->J, sizeof(*m->y));
	m->n = xcalloc(m->R * m->J, sizeof(*m->n));
	m->ids = xcalloc(m->J, sizeof(*m->ids));
	m->nruns = xcalloc(m->J, sizeof(*m->nruns));
	m->par = xcalloc(P, sizeof(*m->par));
	m->g = xcalloc(P, sizeof(*m->g));
	m->step = xcalloc(P, sizeof(*m->step));
	m->trial = xcalloc(P, sizeof(*m->trial));
	m->iblk = xcalloc(3 * m->J, sizeof(*m->iblk));
	m->S = xcalloc(m->R * m->R, sizeof(*m->S));
}

static void release_model(struct irt *m)
{
	free(m->y);
	free(m->n);
	free(m->ids);
	free(m->nruns);
	free(m->par);
	free(m->g);
	free(m->step);
	free(m->trial);
	free(m->iblk);
	free(m->S);
}

static enum err load(struct irt *m, const struct stats_run *const *runs,
		     struct errmsg *e)
{
	size_t total;
	struct idref *all = collect(runs, m->R, &total);

	m->J = count_items(all, total);
	if (m->J == 0 || m->R * m->J > IRT_MAX_CELLS) {
		free(all);
		if (m->J == 0)
			return err_set(e, ERR_INVAL, "irt: the runs have no tasks");
		return err_set(e, ERR_LIMIT, "irt: %zu runs x %zu tasks is more than "
			       "%zu cells", m->R, m->J, IRT_MAX_CELLS);
	}
	alloc_model(m);
	fill_cells(m, runs, all, total);
	free(all);
	return ERR_OK;
}

static double softplus(double t)
{
	return t > 0 ? t + log1p(exp(-t)) : log1p(exp(t));
}

static double sigmoid(double t)
{
	return t >= 0 ? 1 / (1 + exp(-t)) : exp(t) / (1 + exp(t));
}

/* Log posterior (up to a constant) at parameters par. */
static double logpost(const struct irt *m, const double *par)
{
	const double *th = par, *al = par + m->R, *b = par + m->R + m->J;
	double lp = 0;

	for (size_t r = 0; r < m->R; r++) {
		lp -= th[r] * th[r] / (2 * m->o.theta_sd * m->o.theta_sd);
		for (size_t j = 0; j < m->J; j++) {
			double nn = m->n[r * m->J + j], eta;
			if (nn == 0)
				continue;
			eta = exp(al[j]) * (th[r] - b[j]);
			lp += m->y[r * m->J + j] * eta - nn * softplus(eta);
		}
	}
	for (size_t j = 0; j < m->J; j++) {
		lp -= b[j] * b[j] / (2 * m->o.b_sd * m->o.b_sd);
		lp -= al[j] * al[j] / (2 * m->o.loga_sd * m->o.loga_sd);
	}
	return lp;
}

/* Contributions of one cell to gradient, information and the cross
 * information c = (I_theta_alpha, I_theta_b). With eta = a d, d = theta - b:
 * d eta / d theta = a, d eta / d alpha = a d, d eta / d b = -a;
 * score = (y - n p) d eta, information = n p (1 - p) (d eta)(d eta)^T. */
struct cell {
	double res, w, a, d;
};

static struct cell cell_at(const struct irt *m, size_t r, size_t j)
{
	struct cell c = { 0 };
	double nn = m->n[r * m->J + j], p;

	if (nn == 0)
		return c;
	c.a = exp(ALPHA(m)[j]);
	c.d = THETA(m)[r] - BETA(m)[j];
	p = sigmoid(c.a * c.d);
	c.res = m->y[r * m->J + j] - nn * p;
	c.w = nn * p * (1 - p);
	return c;
}

/* Gradient, theta information (into S's diagonal) and item blocks. */
static void score_info(struct irt *m)
{
	size_t R = m->R, J = m->J;
	double *gt = m->g, *ga = m->g + R, *gb = m->g + R + J;

	memset(m->g, 0, (R + 2 * J) * sizeof(*m->g));
	memset(m->iblk, 0, 3 * J * sizeof(*m->iblk));
	memset(m->S, 0, R * R * sizeof(*m->S));
	for (size_t r = 0; r < R; r++) {
		for (size_t j = 0; j < J; j++) {
			struct cell c = cell_at(m, r, j);
			double wa2 = c.w * c.a * c.a;
			gt[r] += c.res * c.a;
			ga[j] += c.res * c.a * c.d;
			gb[j] -= c.res * c.a;
			m->S[r * R + r] += wa2;
			m->iblk[3 * j] += wa2 * c.d * c.d;
			m->iblk[3 * j + 1] -= wa2 * c.d;
			m->iblk[3 * j + 2] += wa2;
		}
		gt[r] -= THETA(m)[r] / (m->o.theta_sd * m->o.theta_sd);
		m->S[r * R + r] += 1 / (m->o.theta_sd * m->o.theta_sd);
	}
	for (size_t j = 0; j < J; j++) {
		ga[j] -= ALPHA(m)[j] / (m->o.loga_sd * m->o.loga_sd);
		gb[j] -= BETA(m)[j] / (m->o.b_sd * m->o.b_sd);
		m->iblk[3 * j] += 1 / (m->o.loga_sd * m->o.loga_sd);
		m->iblk[3 * j + 2] += 1 / (m->o.b_sd * m->o.b_sd);
	}
}

/* Inverse of the 2x2 item block j: (aa, ab, bb). Positive definite by
 * Cauchy-Schwarz plus the prior precisions. */
static void block_inv(const double *blk, double inv[3])
{
	double det = blk[0] * blk[2] - blk[1] * blk[1];

	inv[0] = blk[2] / det;
	inv[1] = -blk[1] / det;
	inv[2] = blk[0] / det;
}

/* S -= sum_j B_j M_j^-1 B_j^T and rhs -= B_j M_j^-1 g_j, where row r of
 * B_j is the cross information (w a^2 d, -w a^2) of cell (r, j). */
static void eliminate_item(struct irt *m, size_t j, double *bt, double *rhs)
{
	size_t R = m->R;
	double inv[3], *ga = m->g + R, *gb = m->g + R + m->J;
	double ui, vi;

	block_inv(m->iblk + 3 * j, inv);
	for (size_t r = 0; r < R; r++) {
		struct cell c = cell_at(m, r, j);
		bt[2 * r] = c.w * c.a * c.a * c.d;
		bt[2 * r + 1] = -c.w * c.a * c.a;
	}
	for (size_t r = 0; r < R; r++) {
		if (bt[2 * r] == 0 && bt[2 * r + 1] == 0)
			continue;
		/* u = B_r M^-1 */
		ui = bt[2 * r] * inv[0] + bt[2 * r + 1] * inv[1];
		vi = bt[2 * r] * inv[1] + bt[2 * r + 1] * inv[2];
		rhs[r] -= ui * ga[j] + vi * gb[j];
		for (size_t s = 0; s < R; s++)
			m->S[r * R + s] -= ui * bt[2 * s] + vi * bt[2 * s + 1];
	}
}

/* Cholesky factor (lower) of the R x R matrix in place; false if not PD. */
static bool cholesky(double *A, size_t R)
{
	for (size_t j = 0; j < R; j++) {
		double d = A[j * R + j];
		for (size_t k = 0; k < j; k++)
			d -= A[j * R + k] * A[j * R + k];
		if (!(d > 0))
			return false;
		A[j * R + j] = sqrt(d);
		for (size_t i = j + 1; i < R; i++) {
			double s = A[i * R + j];
			for (size_t k = 0; k < j; k++)
				s -= A[i * R + k] * A[j * R + k];
			A[i * R + j] = s / A[j * R + j];
		}
	}
	return true;
}

static void chol_solve(const double *L, size_t R, double *x)
{
	for (size_t i = 0; i < R; i++) {
		for (size_t k = 0; k < i; k++)
			x[i] -= L[i * R + k] * x[k];
		x[i] /= L[i * R + i];
	}
	for (size_t i = R; i-- > 0;) {
		for (size_t k = i + 1; k < R; k++)
			x[i] -= L[k * R + i] * x[k];
		x[i] /= L[i * R + i];
	}
}

/* Back-substitute the item steps: M_j^-1 (g_j - B_j^T dtheta). */
static void item_steps(struct irt *m, double *bt)
{
	size_t R = m->R, J = m->J;
	double inv[3];

	for (size_t j = 0; j < J; j++) {
		double ra = m->g[R + j], rb = m->g[R + J + j];
		for (size_t r = 0; r < R; r++) {
			struct cell c = cell_at(m, r, j);
			bt[2 * r] = c.w * c.a * c.a * c.d;
			bt[2 * r + 1] = -c.w * c.a * c.a;
			ra -= bt[2 * r] * m->step[r];
			rb -= bt[2 * r + 1] * m->step[r];
		}
		block_inv(m->iblk + 3 * j, inv);
		m->step[R + j] = inv[0] * ra + inv[1] * rb;
		m->step[R + J + j] = inv[1] * ra + inv[2] * rb;
	}
}

/* Fisher-scoring direction into m->step; leaves the Cholesky factor of
 * the Schur complement in m->S. False if the system is not PD. */
static bool newton_direction(struct irt *m)
{
	double *bt = xcalloc(2 * m->R, sizeof(*bt));
	bool ok;

	score_info(m);
	memcpy(m->step, m->g, m->R * sizeof(*m->step));
	for (size_t j = 0; j < m->J; j++)
		eliminate_item(m, j, bt, m->step);
	ok = cholesky(m->S, m->R);
	if (ok) {
		chol_solve(m->S, m->R, m->step);
		item_steps(m, bt);
	}
	free(bt);
	return ok;
}

static double max_abs(const double *v, size_t n)
{
	double x = 0;

	for (size_t i = 0; i < n; i++)
		x = fmax(x, fabs(v[i]));
	return x;
}

/* Step halving until the log posterior does not fall. Returns the size
 * of the accepted step (0 if none was accepted). */
static double line_search(struct irt *m, double *lp)
{
	size_t P = m->R + 2 * m->J;
	double t = 1;

	for (int k = 0; k < 40; k++, t /= 2) {
		double l;
		for (size_t i = 0; i < P; i++)
			m->trial[i] = m->par[i] + t * m->step[i];
		l = logpost(m, m->trial);
		if (l >= *lp - 1e-12 * fabs(*lp)) {
			memcpy(m->par, m->trial, P * sizeof(*m->par));
			*lp = l;
			return t * max_abs(m->step, P);
		}
	}
	return 0;
}

/* Start: theta 0, a 1, b from each task's smoothed solve rate. */
static void start(struct irt *m)
{
	for (size_t j = 0; j < m->J; j++) {
		double y = 0.5, n = 1;
		for (size_t r = 0; r < m->R; r++) {
			y += m->y[r * m->J + j];
			n += m->n[r * m->J + j];
		}
		BETA(m)[j] = -log(y / (n - y));
	}
}

static void optimise(struct irt *m, struct stats_irt *fit)
{
	double lp;

	start(m);
	lp = logpost(m, m->par);
	for (fit->iterations = 0; fit->iterations < m->o.max_iter;) {
		double step;
		if (!newton_direction(m))
			break;
		fit->iterations++;
		if (max_abs(m->g, m->R + 2 * m->J) < m->o.tol) {
			fit->converged = true;
			break;
		}
		step = line_search(m, &lp);
		if (step < 1e-12) {
			fit->converged = max_abs(m->g, m->R + 2 * m->J) < 1e-6;
			break;
		}
	}
	fit->logpost = lp;
}

/* Runs are connected when every run reaches run 0 through tasks two runs
 * share (union-find over runs). */
static size_t uf_find(size_t *up, size_t x)
{
	while (up[x] != x)
		x = up[x] = up[up[x]];
	return x;
}

static bool connected(const struct irt *m)
{
	size_t *up = xcalloc(m->R, sizeof(*up));
	bool ok = true;

	for (size_t r = 0; r < m->R; r++)
		up[r] = r;
	for (size_t j = 0; j < m->J; j++) {
		long first = -1;
		for (size_t r = 0; r < m->R; r++) {
			if (m->n[r * m->J + j] == 0)
				continue;
			if (first < 0)
				first = (long)r;
			else
				up[uf_find(up, r)] = uf_find(up, (size_t)first);
		}
	}
	for (size_t r = 1; r < m->R; r++)
		ok = ok && uf_find(up, r) == uf_find(up, 0);
	free(up);
	return ok;
}

/* Posterior covariance of theta: inverse of the Schur complement, from
 * its Cholesky factor left in m->S by the last newton_direction(). */
static void covariance(const struct irt *m, double *cov)
{
	double *col = xcalloc(m->R, sizeof(*col));

	for (size_t c = 0; c < m->R; c++) {
		memset(col, 0, m->R * sizeof(*col));
		col[c] = 1;
		chol_solve(m->S, m->R, col);
		for (size_t r = 0; r < m->R; r++)
			cov[r * m->R + c] = col[r];
	}
	free(col);
}

static void fill_fit(struct irt *m, const struct stats_run *const *runs,
		     struct stats_irt *fit)
{
	double z = stats_z(m->o.level);

	fit->nmodels = m->R;
	fit->nitems = m->J;
	fit->models = xcalloc(m->R, sizeof(*fit->models));
	fit->items = xcalloc(m->J, sizeof(*fit->items));
	fit->cov = xcalloc(m->R * m->R, sizeof(*fit->cov));
	fit->connected = connected(m);
	fit->opts = m->o;
	newton_direction(m); /* information at the optimum */
	covariance(m, fit->cov);
	for (size_t r = 0; r < m->R; r++) {
		struct stats_irt_model *x = &fit->models[r];
		x->run = runs[r]->name;
		x->model = runs[r]->model;
		x->theta = THETA(m)[r];
		x->se = sqrt(fmax(0, fit->cov[r * m->R + r]));
		x->ci = (struct stats_interval){ x->theta, x->theta - z * x->se,
						 x->theta + z * x->se, m->o.level };
		x->ntasks = runs[r]->ntasks;
	}
	for (size_t j = 0; j < m->J; j++)
		fit->items[j] = (struct stats_irt_item){ m->ids[j], exp(ALPHA(m)[j]),
							 BETA(m)[j], m->nruns[j] };
}

static enum err check_opts(const struct stats_irt_opts *o, struct errmsg *e)
{
	if (!(o->theta_sd > 0 && o->b_sd > 0 && o->loga_sd > 0))
		return err_set(e, ERR_INVAL, "irt: prior standard deviations must be > 0");
	if (!(o->level > 0 && o->level < 1) || o->max_iter < 1 || !(o->tol > 0))
		return err_set(e, ERR_INVAL, "irt: bad level, max_iter or tol");
	return ERR_OK;
}

enum err stats_irt_fit(const struct stats_run *const *runs, size_t nruns,
		       const struct stats_irt_opts *o, struct stats_irt **out,
		       struct errmsg *e)
{
	struct irt m = { .R = nruns, .o = *o };
	struct stats_irt *fit;
	enum err rc = check_opts(o, e);

	if (rc == ERR_OK && (nruns < 1 || nruns > STATS_MAX_RUNS))
		rc = err_set(e, ERR_INVAL, "irt: %zu runs (need 1..%d)", nruns,
			     STATS_MAX_RUNS);
	for (size_t r = 0; r < nruns && rc == ERR_OK; r++)
		rc = stats_run_check(runs[r], e);
	if (rc == ERR_OK)
		rc = load(&m, runs, e);
	if (rc)
		return rc;
	fit = xcalloc(1, sizeof(*fit));
	optimise(&m, fit);
	fill_fit(&m, runs, fit);
	release_model(&m);
	*out = fit;
	return ERR_OK;
}

void stats_irt_free(struct stats_irt *fit)
{
	if (!fit)
		return;
	free(fit->models);
	free(fit->items);
	free(fit->cov);
	free(fit);
}

struct stats_interval stats_irt_diff(const struct stats_irt *fit, size_t r,
				     size_t s, double level)
{
	size_t R = fit->nmodels;
	double d = fit->models[r].theta - fit->models[s].theta;
	double v = fit->cov[r * R + r] + fit->cov[s * R + s] - 2 * fit->cov[r * R + s];
	double h = stats_z(level) * sqrt(fmax(0, v));

	return (struct stats_interval){ d, d - h, d + h, level };
}

/* CAISI (May 2026, reference doc §b): "every 200-point increase equates
 * to a 3x increase in the odds"; on an a = 1 item odds scale by e^theta,
 * so 200 points = ln 3 logits. */
double stats_irt_points(double theta)
{
	return theta * 200 / log(3);
}

long stats_irt_find(const struct stats_irt *fit, const char *run)
{
	for (size_t r = 0; r < fit->nmodels; r++)
		if (fit->models[r].run && strcmp(fit->models[r].run, run) == 0)
			return (long)r;
	return -1;
}
