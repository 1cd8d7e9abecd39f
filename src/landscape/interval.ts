/**
 * Bounds of a landscape expression over a box, by interval arithmetic on its IR (ir.ts).
 *
 * Used by the zero-set search (src/diagnostics/zero-set.ts) to skip the cells whose widened box
 * provably holds no value of f near 0: on a 2000-cell 1-D grid that search otherwise runs a
 * compass search in every cell (issue #19, most of `fpsolve validate`'s set-up). A bound must
 * never be wrong, so every result is widened by a few units in the last place (float64 rounds to
 * nearest, not outward), and anything not handled exactly (a pole inside the box, a non-integer
 * power of a box reaching ≤ 0, a function without a simple enclosure) gives up: null.
 */
import type { IR } from './ir.js';

export interface Interval {
  lo: number;
  hi: number;
}

/** Relative and absolute widening per operation: float64 rounding errs by ≤ 1/2 ulp (2^−53) per op. */
const REL = 8 * Number.EPSILON;
const ABS = 1e-300;

function widen(lo: number, hi: number): Interval | null {
  if (Number.isNaN(lo) || Number.isNaN(hi)) return null;
  return { lo: lo - Math.abs(lo) * REL - ABS, hi: hi + Math.abs(hi) * REL + ABS };
}

/** Monotone non-decreasing g on the interval (its domain checked by the caller). */
const up = (g: (v: number) => number, a: Interval): Interval | null => widen(g(a.lo), g(a.hi));

function mulI(a: Interval, b: Interval): Interval | null {
  const p = [a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi];
  // 0 · ∞ is NaN: an unbounded factor times one that may be 0 has no finite enclosure here.
  if (p.some(Number.isNaN)) return null;
  return widen(Math.min(...p), Math.max(...p));
}

/** x^n for an integer n ≥ 0 (even powers are ≥ 0 and smallest at the point of the box nearest 0). */
function powInt(a: Interval, n: number): Interval | null {
  if (n === 0) return { lo: 1, hi: 1 };
  const plo = a.lo ** n;
  const phi = a.hi ** n;
  if (n % 2 === 1) return widen(plo, phi);
  if (a.lo >= 0) return widen(plo, phi);
  if (a.hi <= 0) return widen(phi, plo);
  return widen(0, Math.max(plo, phi));
}

/** sin over [lo, hi]: the endpoint values, and ±1 where a peak (π/2 + 2kπ) or trough lies inside. */
function sinI(a: Interval): Interval | null {
  if (!(a.hi - a.lo < 2 * Math.PI) || !Number.isFinite(a.lo) || !Number.isFinite(a.hi)) return { lo: -1, hi: 1 };
  let lo = Math.min(Math.sin(a.lo), Math.sin(a.hi));
  let hi = Math.max(Math.sin(a.lo), Math.sin(a.hi));
  // Extremes at π/2 + kπ; the margin covers the rounding of the division (a peak just outside counts as inside).
  const k0 = Math.ceil((a.lo - Math.PI / 2) / Math.PI - 1e-9);
  const k1 = Math.floor((a.hi - Math.PI / 2) / Math.PI + 1e-9);
  for (let k = k0; k <= k1; k++) {
    if (((k % 2) + 2) % 2 === 0) hi = 1;
    else lo = -1;
  }
  return widen(lo, hi);
}

/**
 * An enclosure of e over the box lo ≤ x ≤ hi (one entry per variable), or null when none is
 * derived (see the file comment). Shared sub-expressions are evaluated once.
 */
export function irBounds(e: IR, lo: readonly number[], hi: readonly number[], memo = new Map<IR, Interval | null>()): Interval | null {
  const known = memo.get(e);
  if (known !== undefined || memo.has(e)) return known ?? null;
  const r = boundsOf(e, lo, hi, memo);
  memo.set(e, r);
  return r;
}

function boundsOf(e: IR, lo: readonly number[], hi: readonly number[], memo: Map<IR, Interval | null>): Interval | null {
  const sub = (x: IR): Interval | null => irBounds(x, lo, hi, memo);
  switch (e.k) {
    case 'num':
      return Number.isNaN(e.v) ? null : { lo: e.v, hi: e.v };
    case 'var':
      return e.i < lo.length ? { lo: lo[e.i], hi: hi[e.i] } : null;
    case 'neg': {
      const a = sub(e.a);
      return a && { lo: -a.hi, hi: -a.lo };
    }
    case 'un': {
      const a = sub(e.a);
      if (!a) return null;
      switch (e.f) {
        case 'exp':
        case 'expm1':
        case 'sinh':
        case 'tanh':
        case 'atan':
        case 'cbrt':
        case 'floor':
        case 'ceil':
        case 'sign':
          return up(Math[e.f], a);
        case 'sigmoid':
          return up((v) => 1 / (1 + Math.exp(-v)), a);
        case 'log':
        case 'log10':
        case 'log2':
          return a.lo > 0 ? up(Math[e.f], a) : null;
        case 'log1p':
          return a.lo > -1 ? up(Math.log1p, a) : null;
        case 'sqrt':
          return a.lo >= 0 ? up(Math.sqrt, a) : null;
        case 'abs':
          return a.lo >= 0 ? a : a.hi <= 0 ? { lo: -a.hi, hi: -a.lo } : { lo: 0, hi: Math.max(-a.lo, a.hi) };
        case 'cosh': {
          const m = a.lo >= 0 ? a.lo : a.hi <= 0 ? -a.hi : 0;
          return widen(Math.cosh(m), Math.max(Math.cosh(a.lo), Math.cosh(a.hi)));
        }
        case 'sin':
          return sinI(a);
        case 'cos':
          // cos x = sin(x + π/2); the shifted box is widened by the rounding of the addition.
          return sinI({ lo: a.lo + Math.PI / 2 - Math.abs(a.lo) * REL - REL, hi: a.hi + Math.PI / 2 + Math.abs(a.hi) * REL + REL });
        default:
          // tan, asin, acos, …: poles or restricted domains; not needed to skip searches.
          return null;
      }
    }
    case 'bin': {
      const a = sub(e.a);
      const b = sub(e.b);
      if (!a || !b) return null;
      switch (e.op) {
        case 'add':
          return widen(a.lo + b.lo, a.hi + b.hi);
        case 'sub':
          // x − x is 0, not [lo − hi, hi − lo]: the same node on both sides.
          return e.a === e.b ? { lo: 0, hi: 0 } : widen(a.lo - b.hi, a.hi - b.lo);
        case 'mul':
          return e.a === e.b ? powInt(a, 2) : mulI(a, b);
        case 'div':
          if (b.lo > 0 || b.hi < 0) return mulI(a, widen(1 / b.hi, 1 / b.lo)!);
          return null;
        case 'min':
          return { lo: Math.min(a.lo, b.lo), hi: Math.min(a.hi, b.hi) };
        case 'max':
          return { lo: Math.max(a.lo, b.lo), hi: Math.max(a.hi, b.hi) };
        case 'pow': {
          if (b.lo === b.hi && Number.isInteger(b.lo) && b.lo >= 0 && b.lo <= 64) return powInt(a, b.lo);
          // A positive base: x^y = exp(y ln x), monotone in each argument separately.
          if (a.lo > 0) {
            const c = [a.lo ** b.lo, a.lo ** b.hi, a.hi ** b.lo, a.hi ** b.hi];
            return widen(Math.min(...c), Math.max(...c));
          }
          // x^p for a constant p > 0 and x ≥ 0: monotone.
          if (a.lo >= 0 && b.lo === b.hi && b.lo > 0) return up((v) => v ** b.lo, a);
          return null;
        }
        default:
          return null;
      }
    }
  }
}
