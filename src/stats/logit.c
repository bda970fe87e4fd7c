/*
 * logit.c - maximum-likelihood logistic regression with one predictor.
 *
 * Newton-Raphson on the log likelihood
 *   l(b) = sum_i w_i [y_i eta_i - log(1 + exp(eta_i))],  eta_i = b0 + b1 x_i
 * (McCullagh & Nelder, Generalized Linear Models, 2nd ed., §4.4; for the
 * canonical logit link Newton equals Fisher scoring/IRLS). Proportions
 * y_i in [0,1] are allowed: the same estimating equations as a binomial
 * GLM on proportions, which is what statsmodels' GLM(Binomial) fits.
 * The MLE exists iff successes and failures overlap (Albert & Anderson,
 * Biometrika 71, 1984); that is checked first, so the iteration never
 * runs off to infinity.
 */
#include "stats.h"

#include <math.h>

#include "base/bug.h"
#include "stats_int.h"
#include "base/banned.h"

#define LOGIT_MAX_ITER 100

/* log(1 + exp(t)) without overflow. */
static double softplus(double t)
{
	return t > 0 ? t + log1p(exp(-t)) : log1p(exp(t));
}

static double sigmoid(double t)
{
	return t >= 0 ? 1 / (1 + exp(-t)) : exp(t) / (1 + exp(t));
}

static double wt(const double *w, size_t i)
{
	return w ? w[i] : 1.0;
}

static double loglik(const double *x, const double *y, const double *w,
		     size_t n, double b0, double b1)
{
	double l = 0;

	for (size_t i = 0; i < n; i++) {
		double eta = b0 + b1 * x[i];
		l += wt(w, i) * (y[i] * eta - softplus(eta));
	}
	return l;
}

/* Albert & Anderson in one dimension: successes (y > 0) and failures
 * (y < 1) must both exist and overlap from both sides. */
static bool mle_exists(const double *x, const double *y, size_t n)
{
	double s_lo = INFINITY, s_hi = -INFINITY, f_lo = INFINITY, f_hi = -INFINITY;

	for (size_t i = 0; i < n; i++) {
		if (y[i] > 0) {
			s_lo = fmin(s_lo, x[i]);
			s_hi = fmax(s_hi, x[i]);
		}
		if (y[i] < 1) {
			f_lo = fmin(f_lo, x[i]);
			f_hi = fmax(f_hi, x[i]);
		}
	}
	return s_hi > f_lo && f_hi > s_lo;
}

/* Gradient g and Fisher information h (h[0]=I00, h[1]=I01, h[2]=I11). */
static void score(const double *x, const double *y, const double *w, size_t n,
		  double b0, double b1, double g[2], double h[3])
{
	g[0] = g[1] = h[0] = h[1] = h[2] = 0;
	for (size_t i = 0; i < n; i++) {
		double p = sigmoid(b0 + b1 * x[i]);
		double r = wt(w, i) * (y[i] - p), v = wt(w, i) * p * (1 - p);
		g[0] += r;
		g[1] += r * x[i];
		h[0] += v;
		h[1] += v * x[i];
		h[2] += v * x[i] * x[i];
	}
}

/* One Newton step with step halving; returns the size of the step. */
static double newton_step(const double *x, const double *y, const double *w,
			  size_t n, struct stats_logit *f)
{
	double g[2], h[3], det, d0, d1, l0 = f->loglik;

	score(x, y, w, n, f->b0, f->b1, g, h);
	det = h[0] * h[2] - h[1] * h[1];
	if (!(det > 0))
		return 0;
	d0 = (h[2] * g[0] - h[1] * g[1]) / det;
	d1 = (h[0] * g[1] - h[1] * g[0]) / det;
	for (int half = 0; half < 50; half++) {
		double l = loglik(x, y, w, n, f->b0 + d0, f->b1 + d1);
		if (l >= l0 - 1e-12 * fabs(l0)) {
			f->b0 += d0;
			f->b1 += d1;
			f->loglik = l;
			return fmax(fabs(d0), fabs(d1));
		}
		d0 /= 2;
		d1 /= 2;
	}
	return 0;
}

static void standard_errors(const double *x, const double *y, const double *w,
			    size_t n, struct stats_logit *f)
{
	double g[2], h[3], det;

	score(x, y, w, n, f->b0, f->b1, g, h);
	det = h[0] * h[2] - h[1] * h[1];
	f->se0 = det > 0 ? sqrt(h[2] / det) : 0;
	f->se1 = det > 0 ? sqrt(h[0] / det) : 0;
}

static double start_b0(const double *y, const double *w, size_t n)
{
	double sy = 0, sw = 0;

	for (size_t i = 0; i < n; i++) {
		sy += wt(w, i) * y[i];
		sw += wt(w, i);
	}
	return log(sy / (sw - sy));
}

enum err stats_logit_fit_from(const double *x, const double *y, const double *w,
			      size_t n, const double start[2],
			      struct stats_logit *out, struct errmsg *e)
{
	struct stats_logit f = { 0 };

	DEBUGASSERT(x && y && out);
	for (size_t i = 0; w && i < n; i++)
		DEBUGASSERT(w[i] > 0);
	if (!mle_exists(x, y, n))
		return err_set(e, ERR_INVAL, "logistic fit: no maximum-likelihood "
			       "estimate (separated data or one distinct x)");
	f.b0 = start ? start[0] : start_b0(y, w, n);
	f.b1 = start ? start[1] : 0;
	f.loglik = loglik(x, y, w, n, f.b0, f.b1);
	while (f.iterations < LOGIT_MAX_ITER) {
		double step = newton_step(x, y, w, n, &f);
		f.iterations++;
		if (step < 1e-13 * (1 + fabs(f.b0) + fabs(f.b1))) {
			f.converged = true;
			break;
		}
	}
	standard_errors(x, y, w, n, &f);
	*out = f;
	return ERR_OK;
}

enum err stats_logit_fit(const double *x, const double *y, const double *w,
			 size_t n, struct stats_logit *out, struct errmsg *e)
{
	return stats_logit_fit_from(x, y, w, n, NULL, out, e);
}
