#!/usr/bin/python3
"""Reference values for tests/unit/test_stats.c, from scipy / numpy /
statsmodels (Debian 12 packages python3-scipy 1.10.1, python3-numpy 1.24.2,
python3-statsmodels 0.13.5).

Regenerate with exactly:
    /usr/bin/python3 tests/data/stats/make_reference.py > tests/data/stats/reference.h

The header carries both the inputs and the expected outputs, so the C test
reads everything from it. Every value is computed here independently of
the C code: Wilson by statsmodels.proportion_confint, pass@k with exact
integer binomials, McNemar mid-p from statsmodels.mcnemar(exact) minus scipy binom.pmf, t quantiles by scipy.stats.t.ppf, the logistic fit by
statsmodels GLM(Binomial), the 2PL MAP by scipy.optimize on the same
log posterior, the bootstrap with a Python copy of xoshiro256** and
numpy.quantile.
"""
import math
from fractions import Fraction

import numpy as np
import scipy
import scipy.optimize as opt
import scipy.special as sp
import scipy.stats as st
import statsmodels
import statsmodels.api as sm
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.proportion import proportion_confint

M64 = (1 << 64) - 1


def emit_array(ctype, name, values, fmt="%.17g"):
    body = ", ".join(fmt % v for v in values)
    print("static const %s %s[] = { %s };" % (ctype, name, body))


def emit_strs(name, values):
    body = ", ".join("NULL" if v is None else '"%s"' % v for v in values)
    print("static const char *const %s[] = { %s };" % (name, body))


# ---- xoshiro256** seeded by splitmix64 (Blackman & Vigna) ---------------
class Rng:
    def __init__(self, seed):
        self.s = []
        x = seed & M64
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & M64
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
            self.s.append(z ^ (z >> 31))

    @staticmethod
    def rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & M64

    def next(self):
        s = self.s
        result = (self.rotl((s[1] * 5) & M64, 7) * 9) & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = self.rotl(s[3], 45)
        return result

    def below(self, n):
        return (self.next() * n) >> 64


def clusters_of(families):
    """Cluster ids as src/stats/run.c numbers them: tasks without a family
    first (each its own, in input order), then families in strcmp order."""
    keys = [(0, i, "") if f is None else (1, 0, f) for i, f in enumerate(families)]
    order = sorted(set(keys))
    ids = {k: n for n, k in enumerate(order)}
    return [ids[k] for k in keys], len(order)


def emit_rng():
    r = Rng(42)
    emit_array("uint64_t", "ref_rng_seed42", [r.next() for _ in range(8)], "%#xULL")
    r = Rng(7)
    emit_array("uint64_t", "ref_rng_below1000_seed7", [r.below(1000) for _ in range(8)], "%dULL")


def emit_norm():
    ps = [1e-12, 1e-6, 0.001, 0.025, 0.05, 0.2, 0.5, 0.8, 0.95, 0.975, 0.999, 1 - 1e-9]
    emit_array("double", "ref_ppf_p", ps)
    emit_array("double", "ref_ppf_x", [st.norm.ppf(p) for p in ps])
    # Student's t quantiles (scipy.stats.t.ppf) for the clustered intervals
    tp = [0.6, 0.9, 0.95, 0.975, 0.995, 0.9995, 0.025, 0.2]
    tdf = [1, 2, 3, 4, 7, 12, 30, 200]
    cases = [(p, v) for p in tp for v in tdf]
    emit_array("double", "ref_t_p", [c[0] for c in cases])
    emit_array("double", "ref_t_df", [c[1] for c in cases])
    # t.ppf is good to ~1e-9 here; refine it on t.cdf (brentq, xtol 1e-15)
    def tq(p, v):
        x0 = st.t.ppf(p, v)
        w = 1e-6 * max(1.0, abs(x0))
        return opt.brentq(lambda x: st.t.cdf(x, v) - p, x0 - w, x0 + w,
                          xtol=1e-15, rtol=1e-15)
    emit_array("double", "ref_t_x", [tq(p, v) for p, v in cases])


def emit_wilson():
    cases = [(0, 40, 0.95), (40, 40, 0.95), (1, 1, 0.95), (0, 1, 0.9), (7, 20, 0.95),
             (3, 10, 0.9), (250, 1000, 0.99), (12.5, 30, 0.95)]
    emit_array("double", "ref_wilson_x", [c[0] for c in cases])
    emit_array("double", "ref_wilson_n", [c[1] for c in cases])
    emit_array("double", "ref_wilson_level", [c[2] for c in cases])
    lo, hi = [], []
    for x, n, lev in cases:
        a, b = proportion_confint(x, n, alpha=1 - lev, method="wilson")
        lo.append(a)
        hi.append(b)
    emit_array("double", "ref_wilson_lo", lo)
    emit_array("double", "ref_wilson_hi", hi)


def emit_passk():
    cases = [(10, 0, 1), (10, 3, 1), (10, 3, 5), (10, 9, 2), (16, 1, 12), (30, 2, 10),
             (5, 5, 5), (200, 7, 100), (1, 1, 1), (1, 0, 1)]
    vals = []
    for n, c, k in cases:
        v = 1 - Fraction(sp.comb(n - c, k, exact=True), sp.comb(n, k, exact=True))
        vals.append(float(v))
    emit_array("int", "ref_passk_n", [c[0] for c in cases], "%d")
    emit_array("int", "ref_passk_c", [c[1] for c in cases], "%d")
    emit_array("int", "ref_passk_k", [c[2] for c in cases], "%d")
    emit_array("double", "ref_passk", vals)


def mcnemar_midp(b, c):
    """Mid-p McNemar (Fagerland, Lydersen & Laake 2013): the exact
    conditional p-value 2 P(X <= k) (statsmodels' mcnemar(exact=True)
    before its cap at 1) minus P(X = k), X ~ Bin(b + c, 1/2), then capped."""
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    exact = float(mcnemar([[0, b], [c, 0]], exact=True).pvalue)
    two_sided = 2 * float(st.binom.cdf(k, n, 0.5))
    assert abs(min(1.0, two_sided) - exact) < 1e-12
    return min(1.0, two_sided - float(st.binom.pmf(k, n, 0.5)))


def emit_mcnemar():
    cases = [(0, 0), (3, 0), (5, 2), (12, 12), (1, 23), (30, 14), (100, 70), (0, 40)]
    stat, p, exact = [], [], []
    for b, c in cases:
        n = b + c
        stat.append((b - c) ** 2 / n if n else 0.0)
        p.append(mcnemar_midp(b, c))
        exact.append(1)
    emit_array("unsigned", "ref_mcn_b", [c[0] for c in cases], "%du")
    emit_array("unsigned", "ref_mcn_c", [c[1] for c in cases], "%du")
    emit_array("int", "ref_mcn_exact", exact, "%d")
    emit_array("double", "ref_mcn_stat", stat)
    emit_array("double", "ref_mcn_p", p)


# ---- one run used by logistic, horizon and bootstrap tests ----------------
def make_run():
    rs = np.random.RandomState(20260601)
    n = 40
    minutes = np.round(np.exp(rs.uniform(np.log(1), np.log(960), n)), 1)
    epochs = rs.randint(1, 11, n)
    true_p = 1 / (1 + np.exp(-(2.2 - 0.55 * np.log2(minutes))))
    succ = rs.binomial(epochs, true_p)
    fams = [None if i % 3 else "fam-%d" % (i % 4) for i in range(n)]
    return minutes, epochs, succ, fams


def fit_logit(x, y):
    X = sm.add_constant(x)
    res = sm.GLM(y, X, family=sm.families.Binomial()).fit(tol=1e-14, maxiter=1000)
    return res.params, res.bse


def horizon_log2(x, y, xmin, xmax):
    """Mirror of src/stats/horizon.c estimate() (flags -> values)."""
    s = y > 0
    f = y < 1
    if not s.any():
        return [xmin, xmin], True
    if not f.any():
        return [xmax, xmax], True
    if x.min() == x.max():
        return [x.min()] * 2, True
    if x[s].max() <= x[f].min():
        v = (x[s].max() + x[f].min()) / 2
        return [v, v], True
    if x[f].max() <= x[s].min():
        return [xmin, xmin], True
    (b0, b1), _ = fit_logit(x, y)
    out = []
    for q in (0.5, 0.8):
        lq = math.log(q / (1 - q))
        if not b1 < 0:
            out.append(xmax if b0 + b1 * xmin >= lq else xmin)
            continue
        v = (lq - b0) / b1
        v = max(xmin - 10, min(v, xmax + 10))
        out.append(v)
    return out, False


def emit_run():
    minutes, epochs, succ, fams = make_run()
    emit_array("double", "ref_run_minutes", minutes)
    emit_array("int", "ref_run_epochs", epochs, "%d")
    emit_array("int", "ref_run_succ", succ, "%d")
    emit_strs("ref_run_family", fams)
    x = np.log2(minutes)
    y = succ / epochs
    (b0, b1), (se0, se1) = fit_logit(x, y)
    emit_array("double", "ref_logit", [b0, b1, se0, se1])
    h, _ = horizon_log2(x, y, x.min(), x.max())
    emit_array("double", "ref_horizon_point", [2 ** h[0], 2 ** h[1]])
    return minutes, epochs, succ, fams


def boot_percentile(draws, level):
    a = (1 - level) / 2
    return np.quantile(np.array(draws), [a, 1 - a])


def emit_bootstrap(minutes, epochs, succ, fams):
    seed, B, level = 99, 200, 0.9
    cl, ncl = clusters_of(fams)
    rate = succ / epochs
    csum = np.zeros(ncl)
    cnt = np.zeros(ncl)
    for i, c in enumerate(cl):
        csum[c] += rate[i]
        cnt[c] += 1
    r = Rng(seed)
    draws = []
    for _ in range(B):
        acc, tasks = 0.0, 0.0
        for _ in range(ncl):
            c = r.below(ncl)
            acc += csum[c]
            tasks += cnt[c]
        draws.append(acc / tasks)
    lo, hi = boot_percentile(draws, level)
    # clustered SE, reference doc §d
    dev = np.zeros(ncl)
    for i, c in enumerate(cl):
        dev[c] += rate[i] - rate.mean()
    # small-sample correction G/(G-1) (Cameron & Miller 2015)
    se = math.sqrt((dev ** 2).sum() * ncl / (ncl - 1)) / len(rate)
    emit_array("double", "ref_boot_pass1", [rate.mean(), lo, hi, se])
    # pass@k with k = min epochs = 1 equals pass@1; use k=1
    # horizon bootstrap: the same draws of clusters, refit each time
    members = [[i for i in range(len(cl)) if cl[i] == c] for c in range(ncl)]
    x_all = np.log2(minutes)
    xmin, xmax = x_all.min(), x_all.max()
    r = Rng(seed)
    h50, h80, ndeg = [], [], 0
    for _ in range(B):
        idx = []
        for _ in range(ncl):
            idx += members[r.below(ncl)]
        h, deg = horizon_log2(x_all[idx], rate[idx], xmin, xmax)
        ndeg += deg
        h50.append(h[0])
        h80.append(h[1])
    l50 = 2 ** boot_percentile(h50, level)
    l80 = 2 ** boot_percentile(h80, level)
    emit_array("double", "ref_boot_h", [l50[0], l50[1], l80[0], l80[1], ndeg / B])
    print("#define REF_BOOT_SEED %d\n#define REF_BOOT_B %d\n#define REF_BOOT_LEVEL %g"
          % (seed, B, level))


def emit_paired():
    rs = np.random.RandomState(5)
    n = 25
    ea = rs.randint(1, 6, n)
    eb = rs.randint(1, 6, n)
    sa = rs.binomial(ea, 0.6)
    sb = rs.binomial(eb, 0.4)
    fams = [None if i % 2 else "f%d" % (i % 5) for i in range(n)]
    emit_array("int", "ref_pair_ea", ea, "%d")
    emit_array("int", "ref_pair_eb", eb, "%d")
    emit_array("int", "ref_pair_sa", sa, "%d")
    emit_array("int", "ref_pair_sb", sb, "%d")
    emit_strs("ref_pair_family", fams)
    d = sa / ea - sb / eb
    cl, ncl = clusters_of(fams)
    dev = np.zeros(ncl)
    for i, c in enumerate(cl):
        dev[c] += d[i] - d.mean()
    # G/(G-1) correction and t(G-1) critical values (Cameron & Miller 2015)
    se = math.sqrt((dev ** 2).sum() * ncl / (ncl - 1)) / n
    z = st.t.ppf(0.975, ncl - 1)
    ma = 2 * sa > ea
    mb = 2 * sb > eb
    b = int((ma & ~mb).sum())
    c = int((~ma & mb).sum())
    emit_array("double", "ref_pair", [(sa / ea).mean(), (sb / eb).mean(), d.mean(), se,
                                      d.mean() - z * se, d.mean() + z * se, b, c,
                                      mcnemar_midp(b, c)])


# ---- 2PL IRT MAP --------------------------------------------------------
IRT_SD = (1.0, 3.0, 0.5)  # theta, b, log a


def irt_data():
    rs = np.random.RandomState(11)
    R, J = 5, 12
    theta = np.array([-1.0, -0.3, 0.2, 0.8, 1.5])
    b = np.linspace(-2, 2, J)
    a = np.exp(rs.normal(0, 0.3, J))
    n = rs.randint(1, 6, (R, J))
    p = 1 / (1 + np.exp(-a * (theta[:, None] - b[None, :])))
    y = rs.binomial(n, p)
    y[:, 0] = n[:, 0]          # a task every run solves every time
    y[:, J - 1] = 0            # a task no run ever solves
    n[2, 5] = 0                # run 2 did not attempt task 5
    y[2, 5] = 0
    return R, J, n, y


def irt_negpost(par, R, J, n, y):
    th, al, b = par[:R], par[R:R + J], par[R + J:]
    a = np.exp(al)
    eta = a[None, :] * (th[:, None] - b[None, :])
    ll = (y * eta - n * np.logaddexp(0, eta)).sum()
    lp = ll - (th ** 2).sum() / (2 * IRT_SD[0] ** 2) - (b ** 2).sum() / (2 * IRT_SD[1] ** 2) \
        - (al ** 2).sum() / (2 * IRT_SD[2] ** 2)
    return -lp


def irt_grad(par, R, J, n, y):
    th, al, b = par[:R], par[R:R + J], par[R + J:]
    a = np.exp(al)
    d = th[:, None] - b[None, :]
    p = sp.expit(a[None, :] * d)
    res = y - n * p
    gt = (res * a[None, :]).sum(1) - th / IRT_SD[0] ** 2
    ga = (res * a[None, :] * d).sum(0) - al / IRT_SD[2] ** 2
    gb = -(res * a[None, :]).sum(0) - b / IRT_SD[1] ** 2
    return -np.concatenate([gt, ga, gb])


def irt_fisher(par, R, J, n):
    th, al, b = par[:R], par[R:R + J], par[R + J:]
    a = np.exp(al)
    P = R + 2 * J
    info = np.zeros((P, P))
    for r in range(R):
        for j in range(J):
            if n[r, j] == 0:
                continue
            d = th[r] - b[j]
            p = sp.expit(a[j] * d)
            w = n[r, j] * p * (1 - p)
            jac = np.zeros(P)
            jac[r] = a[j]
            jac[R + j] = a[j] * d
            jac[R + J + j] = -a[j]
            info += w * np.outer(jac, jac)
    info[np.arange(R), np.arange(R)] += 1 / IRT_SD[0] ** 2
    info[R + np.arange(J), R + np.arange(J)] += 1 / IRT_SD[2] ** 2
    info[R + J + np.arange(J), R + J + np.arange(J)] += 1 / IRT_SD[1] ** 2
    return info


def emit_irt():
    R, J, n, y = irt_data()
    x0 = np.zeros(R + 2 * J)
    res = opt.minimize(irt_negpost, x0, args=(R, J, n, y), jac=irt_grad, method="BFGS",
                       options={"gtol": 1e-11, "maxiter": 100000})
    # polish with Newton steps on the numerical Hessian of the gradient
    par = res.x
    for _ in range(5):
        g = irt_grad(par, R, J, n, y)
        h = opt.approx_fprime(par, irt_grad, 1e-6, R, J, n, y)
        par = par - np.linalg.solve((h + h.T) / 2, g)
    gmax = np.abs(irt_grad(par, R, J, n, y)).max()
    cov = np.linalg.inv(irt_fisher(par, R, J, n))[:R, :R]
    print("/* 2PL MAP: max |gradient| at the reference optimum %.3g */" % gmax)
    print("#define REF_IRT_R %d\n#define REF_IRT_J %d" % (R, J))
    emit_array("int", "ref_irt_n", n.ravel(), "%d")
    emit_array("int", "ref_irt_y", y.ravel(), "%d")
    emit_array("double", "ref_irt_theta", par[:R])
    emit_array("double", "ref_irt_a", np.exp(par[R:R + J]))
    emit_array("double", "ref_irt_b", par[R + J:])
    emit_array("double", "ref_irt_cov", cov.ravel())
    emit_array("double", "ref_irt_logpost", [-irt_negpost(par, R, J, n, y)])


def main():
    print("/* Generated by tests/data/stats/make_reference.py with scipy %s, numpy %s,"
          % (scipy.__version__, np.__version__))
    print(" * statsmodels %s. Do not edit; regenerate with:" % statsmodels.__version__)
    print(" *   /usr/bin/python3 tests/data/stats/make_reference.py > tests/data/stats/reference.h */")
    print("#include <stddef.h>\n#include <stdint.h>")
    emit_rng()
    emit_norm()
    emit_wilson()
    emit_passk()
    emit_mcnemar()
    run = emit_run()
    emit_bootstrap(*run)
    emit_paired()
    emit_irt()


if __name__ == "__main__":
    main()
