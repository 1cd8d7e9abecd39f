/** 2×2 matrix helpers for the OU closed forms the non-reversible tests compare with (oracles.md §8, §13). */
export type M2 = number[][];

export const inv2 = (m: M2): M2 => {
  const det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
  return [
    [m[1][1] / det, -m[0][1] / det],
    [-m[1][0] / det, m[0][0] / det],
  ];
};

export const mul2 = (p: M2, q: M2): M2 => [
  [p[0][0] * q[0][0] + p[0][1] * q[1][0], p[0][0] * q[0][1] + p[0][1] * q[1][1]],
  [p[1][0] * q[0][0] + p[1][1] * q[1][0], p[1][0] * q[0][1] + p[1][1] * q[1][1]],
];
