/** Shared by the scenario-* and expr-* tests: assertions about the one-line InputError contract. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { EXIT, InputError } from '../src/errors.js';

export interface ExpectedInputError {
  /** The message must start with `<file>: ` (and `field '<field>': ` after it when field is given). */
  file?: string;
  field?: string;
  /** Substrings the message must contain. */
  includes?: readonly string[];
}

/** Run fn, require an InputError with exit code 2, a one-line message and the given file/field. Returns the message. */
export function expectInputError(fn: () => unknown, want: ExpectedInputError = {}): string {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected an InputError to be thrown').toBeInstanceOf(InputError);
  const err = caught as InputError;
  expect(err.exitCode).toBe(EXIT.badInput);
  expect(err.exitCode).toBe(2);
  expect(err.message).not.toContain('\n');
  const prefix = [want.file, want.field !== undefined ? `field '${want.field}'` : undefined].filter(Boolean).join(': ');
  if (want.file !== undefined) {
    expect(err.message.startsWith(`${prefix}: `), `message ${JSON.stringify(err.message)} should start with ${JSON.stringify(prefix)}`).toBe(true);
  } else if (want.field !== undefined) {
    expect(err.message).toContain(`field '${want.field}': `);
  }
  if (want.field !== undefined) expect(err.field).toBe(want.field);
  if (want.file !== undefined) expect(err.file).toBe(want.file);
  for (const s of want.includes ?? []) expect(err.message).toContain(s);
  return err.message;
}

/** A fresh temporary directory holding the given files. */
export function tempDir(files: Record<string, string | Uint8Array> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'fpsolve-scenario-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

/** Deterministic uniform numbers in [lo, hi) (mulberry32), so failures reproduce. */
export function rng(seed: number): (lo?: number, hi?: number) => number {
  let a = seed >>> 0;
  return (lo = 0, hi = 1) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return lo + (hi - lo) * u;
  };
}
