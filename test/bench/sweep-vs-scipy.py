"""A plain SciPy loop over the points of a 1-D ησ sweep, for bench/results-sweep.md (issue #19.5).

The scheme is the reference Scharfetter-Gummel finite-volume discretisation with backward Euler of
the project's SciPy baseline (shared/reference/baseline/sg_scipy.py and common.py, written by the
fpsolve maintainers; `generator` and `bernoulli` below are copied from it, specialised to 1-D), on
scenarios/pearson-1d.yaml: f = c + b x², c = 0.1, b = 0.5, box [-10, 10], D = a f with
a = ησ/2, π ∝ f^-(1 + 1/a), initial Gaussian (mean 1.5, std 0.2), no-flux walls.

Modes (JSON on stdout):
  sweep     the timed loop: every point from t = 0 to --t-end, with --method
            be   backward Euler, fixed --dt, one sparse LU per point reused every step
            bdf  scipy.integrate.solve_ivp(method='BDF') with the sparse Jacobian, --rtol
            steady  π_h directly (the null vector of the generator): no transient at all
            --jobs processes (multiprocessing), the way fpsolve's --jobs uses cores.
  accuracy  for given points: the distance series d(t) = |ρ(t) - π_h|₁ at every report time for
            be/bdf and for the exact solution of the same semi-discrete system (eigen-decomposition
            of its symmetrised tridiagonal generator), so that a method's time error can be set to
            match fpsolve's (bench/results-sweep.md says how).
"""
import argparse, json, sys, time
from multiprocessing import Pool

import numpy as np
import scipy
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.integrate import solve_ivp
from scipy.linalg import eigh_tridiagonal

C_, B_, LO, HI, MEAN, STD = 0.1, 0.5, -10.0, 10.0, 1.5, 0.2


def f_fun(x):
    return C_ + B_ * x**2


def bernoulli(z):  # from sg_scipy.py
    z = np.asarray(z, dtype=float)
    out = np.ones_like(z)
    nz = np.abs(z) > 1e-12
    out[nz] = z[nz] / np.expm1(z[nz])
    return out


class Grid:
    def __init__(self, n, a):
        self.n, self.a = n, a
        self.h = (HI - LO) / n
        self.xc = LO + (np.arange(n) + 0.5) * self.h
        self.f = f_fun(self.xc)

    def initial(self):
        r = np.exp(-((self.xc - MEAN) ** 2) / (2 * STD**2))
        return r / (r.sum() * self.h)

    def log_pi(self):
        return -(1.0 + 1.0 / self.a) * np.log(self.f)

    def invariant(self):
        lp = self.log_pi()
        p = np.exp(lp - lp.max())
        return p / (p.sum() * self.h)

    def l1(self, u, v):
        return float(np.abs(u - v).sum() * self.h)


def generator(g):
    """Sparse SG generator A (dρ/dt = Aρ), sg_scipy.py's `generator` for dim = 1."""
    n, h, a = g.n, g.h, g.a
    U = (1.0 + 1.0 / a) * np.log(g.f)
    Dface = a * f_fun(g.xc[:-1] + 0.5 * h)
    dU = U[1:] - U[:-1]
    c = Dface / h**2
    bm = c * bernoulli(-dU)  # coefficient of ρ_R in the flux
    bp = c * bernoulli(dU)   # coefficient of ρ_L
    diag = np.zeros(n)
    diag[:-1] -= bp
    diag[1:] -= bm
    return sp.diags([bp, diag, bm], [-1, 0, 1], format="csc")


def report_times(t_end, every):
    k = int(round(t_end / every))
    return [every * (i + 1) for i in range(k)]


def run_be(g, A, t_end, every, dt):
    """Backward Euler with a fixed step (a multiple of the report interval's divisor), one LU per point."""
    lu = spla.splu((sp.identity(g.n, format="csc") - dt * A).tocsc())
    rho = g.initial()
    per = int(round(every / dt))
    out = []
    for _ in report_times(t_end, every):
        for _ in range(per):
            rho = lu.solve(rho)
        out.append(rho)
    return out


def run_bdf(g, A, t_end, every, rtol):
    Acsr = A.tocsr()
    sol = solve_ivp(lambda t, y: Acsr @ y, (0.0, t_end), g.initial(), method="BDF", jac=A, rtol=rtol,
                    atol=rtol * 1e-3, t_eval=report_times(t_end, every))
    if not sol.success:
        raise RuntimeError(sol.message)
    return [sol.y[:, k] for k in range(sol.y.shape[1])]


def run_steady(g, A):
    """π_h as the solution of A ρ = 0 with one row replaced by the mass condition."""
    M = A.tolil()
    M[0, :] = g.h
    rhs = np.zeros(g.n)
    rhs[0] = 1.0
    return spla.spsolve(M.tocsc(), rhs)


def exact_series(g, A, t_end, every):
    """ρ(t) = exp(tA)ρ0 exactly (to round-off) from the symmetrised tridiagonal's eigen-decomposition."""
    s = np.exp(0.5 * (g.log_pi() - g.log_pi().max()))
    d = A.diagonal()
    off = A.diagonal(1) * s[1:] / s[:-1]  # S = diag(1/s) A diag(s) is symmetric
    lam, V = eigh_tridiagonal(d, off)
    c0 = V.T @ (g.initial() / s)
    return [s * (V @ (np.exp(lam * t) * c0)) for t in report_times(t_end, every)]


def point(args):
    eta, sigma, n, t_end, every, method, dt, rtol = args
    g = Grid(n, eta * sigma / 2)
    A = generator(g)
    if method == "steady":
        rho = run_steady(g, A)
    else:
        rho = (run_be(g, A, t_end, every, dt) if method == "be" else run_bdf(g, A, t_end, every, rtol))[-1]
    pi = g.invariant()
    return dict(eta=eta, l1_final=g.l1(rho, pi), mass=float(rho.sum() * g.h))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["sweep", "accuracy"])
    ap.add_argument("--etas", required=True, help="comma-separated η values")
    ap.add_argument("--sigma", type=float, default=10.0)
    ap.add_argument("--cells", type=int, default=2000)
    ap.add_argument("--t-end", type=float, default=16.0)
    ap.add_argument("--report-every", type=float, default=1.0)
    ap.add_argument("--method", choices=["be", "bdf", "steady"], default="be")
    ap.add_argument("--dt", type=float, default=1e-3)
    ap.add_argument("--rtol", type=float, default=1e-6)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--dts", default="", help="accuracy: comma-separated backward Euler steps to try")
    ap.add_argument("--rtols", default="", help="accuracy: comma-separated BDF rtols to try")
    a = ap.parse_args()
    etas = [float(e) for e in a.etas.split(",")]
    if a.mode == "sweep":
        t0 = time.perf_counter()
        work = [(e, a.sigma, a.cells, a.t_end, a.report_every, a.method, a.dt, a.rtol) for e in etas]
        with Pool(a.jobs) as pool:
            res = pool.map(point, work, chunksize=1)
        wall = time.perf_counter() - t0
        print(json.dumps(dict(method=a.method, dt=a.dt, rtol=a.rtol, points=len(etas), loop_wall_s=wall,
                              worst_l1_final=max(r["l1_final"] for r in res), results=res,
                              versions=dict(python=sys.version.split()[0], numpy=np.__version__, scipy=scipy.__version__))))
        return
    out = []
    for e in etas:
        g = Grid(a.cells, e * a.sigma / 2)
        A = generator(g)
        pi = g.invariant()
        dist = lambda series: [g.l1(r, pi) for r in series]
        entry = dict(eta=e, times=report_times(a.t_end, a.report_every), exact=dist(exact_series(g, A, a.t_end, a.report_every)),
                     steady_l1_to_pi=g.l1(run_steady(g, A), pi), be={}, bdf={})
        for dt in filter(None, a.dts.split(",")):
            t0 = time.perf_counter()
            entry["be"][dt] = dict(series=dist(run_be(g, A, a.t_end, a.report_every, float(dt))), seconds=time.perf_counter() - t0)
        for rt in filter(None, a.rtols.split(",")):
            t0 = time.perf_counter()
            entry["bdf"][rt] = dict(series=dist(run_bdf(g, A, a.t_end, a.report_every, float(rt))), seconds=time.perf_counter() - t0)
        out.append(entry)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
