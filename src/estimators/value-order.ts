/**
 * Cell indices in increasing value, ties in increasing index: the order a stable comparison sort
 * of 0..n−1 by `values[a] − values[b]` gives, found by an LSD radix sort on the bits of the
 * doubles. The flood of f (critical-points.ts floodMerges) sorts every cell of the grid once per
 * run; a comparison sort with a closure cost most of that pass at 512² (~150 ms), the four
 * 16-bit counting passes here cost a few ms. NaN has no place in such an order (the comparator
 * treats it as equal to everything): values with NaN fall back to that comparator sort so that
 * the result stays what it was.
 */
export function orderByValue(values: Float64Array): Uint32Array {
  const n = values.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (n < 2) return order;
  const hi = new Uint32Array(n);
  const lo = new Uint32Array(n);
  const bits = new Float64Array(1);
  const words = new Uint32Array(bits.buffer);
  // Little-endian words: [0] low, [1] high (every platform Node runs on).
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v !== v) return order.sort((a, b) => values[a] - values[b]);
    // −0 and +0 compare equal: one key, so that their order is the index order as in the comparator sort.
    bits[0] = v === 0 ? 0 : v;
    let h = words[1];
    let l = words[0];
    // Monotone map of IEEE-754 bits to unsigned integers: negatives flipped, positives above them.
    if (h & 0x80000000) {
      h = ~h >>> 0;
      l = ~l >>> 0;
    } else h = (h | 0x80000000) >>> 0;
    hi[i] = h;
    lo[i] = l;
  }
  // The four digits' histograms in one pass (one read of the keys instead of four).
  const count = new Uint32Array(4 * 65536);
  for (let i = 0; i < n; i++) {
    const l = lo[i];
    const h = hi[i];
    count[l & 0xffff]++;
    count[65536 + (l >>> 16)]++;
    count[131072 + (h & 0xffff)]++;
    count[196608 + (h >>> 16)]++;
  }
  let src = order;
  let dst = new Uint32Array(n);
  for (let pass = 0; pass < 4; pass++) {
    const key = pass < 2 ? lo : hi;
    const shift = (pass & 1) * 16;
    const base = pass * 65536;
    // Every key sharing this digit: the pass would not move anything.
    if (count[base + ((key[0] >>> shift) & 0xffff)] === n) continue;
    let sum = 0;
    for (let d = base; d < base + 65536; d++) {
      const c = count[d];
      count[d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const c = src[i];
      dst[count[base + ((key[c] >>> shift) & 0xffff)]++] = c;
    }
    const t = src;
    src = dst;
    dst = t;
  }
  return src;
}
