/*
 * dist.c - normal distribution, quantiles, pass@k, Wilson, McNemar.
 */
#include "stats.h"

#include <math.h>
#include "base/banned.h"

double stats_norm_cdf(double x)
{
	return 0.5 * erfc(-x / M_SQRT2);
}

/* P. J. Acklam, "An algorithm for computing the inverse normal cumulative
 * distribution function" (2003): rational approximations with relative
 * error 1.15e-9, then one Halley step on erfc, as Acklam suggests, which
 * brings the error to about machine precision. */
static double acklam(double p)
{
	static const double a[] = { -3.969683028665376e+01, 2.209460984245205e+02,
		-2.759285104469687e+02, 1.383577518672690e+02,
		-3.066479806614716e+01, 2.506628277459239e+00 };
	static const double b[] = { -5.447609879822406e+01, 1.615858368580409e+02,
		-1.556989798598866e+02, 6.680131188771972e+01,
		-1.328068155288572e+01 };
	static const double c[] = { -7.784894002430293e-03, -3.223964580411365e-01,
		-2.400758277161838e+00, -2.549732539343734e+00,
		4.374664141464968e+00, 2.938163982698783e+00 };
	static const double d[] = { 7.784695709041462e-03, 3.224671290700398e-01,
		2.445134137142996e+00, 3.754408661907416e+00 };
	double q, r;

	if (p < 0.02425) {
		q = sqrt(-2 * log(p));
		return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
		       ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	}
	if (p > 1 - 0.02425) {
		q = sqrt(-2 * log1p(-p));
		return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
		       ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	}
	q = p - 0.5;
	r = q * q;
	return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
	       (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

double stats_norm_ppf(double p)
{
	double x, u;

	if (!(p >= 1e-300))
		p = 1e-300;
	if (p > 1 - 1e-16)
		p = 1 - 1e-16;
	x = acklam(p);
	u = (stats_norm_cdf(x) - p) * sqrt(2 * M_PI) * exp(x * x / 2);
	return x - u / (1 + x * u / 2);
}

double stats_z(double level)
{
	return stats_norm_ppf(1 - (1 - level) / 2);
}

/* Hyndman & Fan (1996) definition 7, numpy.quantile's default "linear":
 * h = (n - 1) q, interpolate between the neighbours of h. */
double stats_quantile_sorted(const double *sorted, size_t n, double q)
{
	double h, frac;
	size_t lo;

	if (n == 0)
		return 0;
	if (q <= 0)
		return sorted[0];
	if (q >= 1)
		return sorted[n - 1];
	h = (double)(n - 1) * q;
	lo = (size_t)floor(h);
	frac = h - (double)lo;
	if (lo + 1 >= n)
		return sorted[n - 1];
	return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

/* Chen et al., "Evaluating Large Language Models Trained on Code",
 * arXiv 2107.03374, Fig. 3: 1 - C(n-c,k)/C(n,k) computed as the product
 * 1 - prod_{i=n-c+1}^{n} (1 - k/i), which never forms a binomial. */
double stats_pass_at_k(int n, int c, int k)
{
	double prod = 1;

	if (n - c < k)
		return 1;
	for (int i = n - c + 1; i <= n; i++)
		prod *= 1 - (double)k / i;
	return 1 - prod;
}

/* E. B. Wilson, JASA 22 (1927); form as in Brown, Cai & DasGupta,
 * Statistical Science 16 (2001), eq. 4 (and reference doc §d):
 * centre (p + z^2/2n) / (1 + z^2/n), half-width
 * z sqrt(p(1-p)/n + z^2/4n^2) / (1 + z^2/n). */
struct stats_interval stats_wilson(double x, double n, double level)
{
	struct stats_interval r = { .level = level, .lo = 0, .hi = 1 };
	double z, p, den, mid, half;

	if (!(n > 0))
		return r;
	z = stats_z(level);
	p = x / n;
	if (p < 0)
		p = 0;
	if (p > 1)
		p = 1;
	den = 1 + z * z / n;
	mid = (p + z * z / (2 * n)) / den;
	half = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den;
	r.est = p;
	r.lo = fmax(0, mid - half);
	r.hi = fmin(1, mid + half);
	return r;
}

/* ---- Student's t ---------------------------------------------------------
 * The CDF through the regularised incomplete beta function,
 * F(t; v) = 1 - I_{v/(v+t^2)}(v/2, 1/2) / 2 for t >= 0 (Abramowitz &
 * Stegun 26.7.1, 26.5.27), with I evaluated by its continued fraction
 * (DLMF 8.17.22) in the modified Lentz form (Thompson & Barnett 1986),
 * using the symmetry I_x(a,b) = 1 - I_{1-x}(b,a) where it converges
 * slowly. The quantile inverts the CDF by Newton steps safeguarded by
 * bisection; scipy.stats.t.ppf agrees to 1e-12 (make_reference.py). */
#define T_TINY 1e-300

static double beta_cf(double a, double b, double x)
{
	double c = 1, d = 1 - (a + b) * x / (a + 1), f;

	d = 1 / (fabs(d) < T_TINY ? T_TINY : d);
	f = d;
	for (int m = 1; m <= 10000; m++) {
		double num, delta;
		for (int odd = 0; odd < 2; odd++) {
			num = odd ? -(a + m) * (a + b + m) * x /
				    ((a + 2 * m) * (a + 2 * m + 1))
				  : m * (b - m) * x /
				    ((a + 2 * m - 1) * (a + 2 * m));
			d = 1 + num * d;
			d = 1 / (fabs(d) < T_TINY ? T_TINY : d);
			c = 1 + num / c;
			if (fabs(c) < T_TINY)
				c = T_TINY;
			delta = c * d;
			f *= delta;
		}
		if (fabs(delta - 1) < 1e-16)
			break;
	}
	return f;
}

static double lgam(double x)
{
	int sign;

	return lgamma_r(x, &sign);
}

/* I_x(a, b), 0 <= x <= 1. */
static double beta_inc(double a, double b, double x)
{
	double front;

	if (x <= 0)
		return 0;
	if (x >= 1)
		return 1;
	front = exp(lgam(a + b) - lgam(a) - lgam(b) + a * log(x) +
		    b * log1p(-x));
	if (x < (a + 1) / (a + b + 2))
		return front * beta_cf(a, b, x) / a;
	return 1 - front * beta_cf(b, a, 1 - x) / b;
}

double stats_t_cdf(double t, double df)
{
	double tail = 0.5 * beta_inc(df / 2, 0.5, df / (df + t * t));

	return t >= 0 ? 1 - tail : tail;
}

static double t_pdf(double t, double df)
{
	return exp(lgam((df + 1) / 2) - lgam(df / 2) -
		   0.5 * log(df * M_PI) - (df + 1) / 2 * log1p(t * t / df));
}

double stats_t_quantile(double p, double df)
{
	double lo = 0, hi = 1e300, t;

	if (p == 0.5)
		return 0;
	if (p < 0.5)
		return -stats_t_quantile(1 - p, df);
	t = fmax(stats_norm_ppf(p), 1e-3);
	for (int i = 0; i < 400; i++) {
		double f = stats_t_cdf(t, df) - p, next;
		if (f == 0)
			break;
		if (f > 0)
			hi = t;
		else
			lo = t;
		next = t - f / t_pdf(t, df);
		if (!(next > lo && next < hi))   /* outside the bracket */
			next = hi < 1e300 ? (lo + hi) / 2 : 2 * t;
		if (fabs(next - t) <= 1e-15 * fabs(t))
			return next;
		t = next;
	}
	return t;
}

double stats_t_crit(double level, double df)
{
	return stats_t_quantile(1 - (1 - level) / 2, df);
}

/* P(X = i) for X ~ Binomial(n, 1/2), in log space. */
static double binom_half_pmf(unsigned i, unsigned n)
{
	return exp(lgam(n + 1.0) - lgam(i + 1.0) - lgam(n - i + 1.0) -
		   n * M_LN2);
}

/* P(X <= k) for X ~ Binomial(n, 1/2), summed in log space. */
static double binom_half_cdf(unsigned k, unsigned n)
{
	double s = 0;

	for (unsigned i = 0; i <= k; i++)
		s += binom_half_pmf(i, n);
	return s;
}

/* McNemar (1947), mid-p version (Fagerland, Lydersen & Laake, BMC Med
 * Res Methodol 13:91, 2013, who recommend it for every sample size: the
 * exact conditional test is conservative, the asymptotic one can exceed
 * its level at small b + c): with X ~ Bin(b + c, 1/2) and k = min(b, c),
 * p = min(1, 2 P(X <= k) - P(X = k)). `statistic` is the uncorrected
 * chi-square (b - c)^2 / (b + c), for information. */
struct stats_mcnemar stats_mcnemar(unsigned b, unsigned c)
{
	struct stats_mcnemar m = { .b = b, .c = c, .p = 1, .exact = true };
	unsigned n = b + c, lo = b < c ? b : c;
	double d = (double)b - (double)c;

	if (n == 0)
		return m;
	m.statistic = d * d / n;
	m.p = fmin(1, 2 * binom_half_cdf(lo, n) - binom_half_pmf(lo, n));
	return m;
}
