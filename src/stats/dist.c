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

/* P(X <= k) for X ~ Binomial(n, 1/2), summed in log space. */
static double binom_half_cdf(unsigned k, unsigned n)
{
	double s = 0;

	for (unsigned i = 0; i <= k; i++)
		s += exp(lgamma(n + 1.0) - lgamma(i + 1.0) - lgamma(n - i + 1.0) -
			 n * M_LN2);
	return s;
}

/* McNemar (1947). Exact: two-sided binomial test of b vs b + c at 1/2,
 * p = min(1, 2 P(X <= min(b, c))). Otherwise chi-square with Edwards'
 * continuity correction (|b - c| - 1)^2 / (b + c), 1 df, whose survival
 * function is erfc(sqrt(x / 2)). Same choices as statsmodels'
 * mcnemar(exact=..., correction=True). The 25 cut-off for the exact test
 * follows common practice (e.g. Fagerland et al., BMC Med Res Meth 2013). */
struct stats_mcnemar stats_mcnemar(unsigned b, unsigned c)
{
	struct stats_mcnemar m = { .b = b, .c = c, .p = 1 };
	unsigned n = b + c, lo = b < c ? b : c;
	double d;

	if (n == 0) {
		m.exact = true;
		return m;
	}
	if (n < 25) {
		m.exact = true;
		m.statistic = lo;
		m.p = fmin(1, 2 * binom_half_cdf(lo, n));
		return m;
	}
	d = fabs((double)b - (double)c) - 1;
	m.statistic = d * d / n;
	m.p = erfc(sqrt(m.statistic / 2));
	return m;
}
