/**
 * Output promises an independent attack broke after the first round of issue #16 (docs/reliability.md,
 * "Output locations and failing disks"): a sweep's own files that are not regular files (a FIFO
 * blocked forever), a run whose figures/ sub-directory cannot be written into (the earlier outputs
 * were half replaced), simulate outputs mixed after a failed write, and `sweep merge --out` equal to
 * one of its inputs (the shard was rewritten in place). The oracle is the file system itself: bytes
 * and hashes of the earlier outputs, and which files exist.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { ROOT } from './helpers/cli.js';

const PEARSON = join(ROOT, 'scenarios', 'pearson-1d.yaml');
const BASE = ['--quiet', '--set', 'domain.cells=[200]', '--set', 'time.end=1'];
// In a sweep a list value is a list of points: one grid is [[200]].
const SWEEP = ['--quiet', '--set', 'domain.cells=[[200]]', '--set', 'time.end=1'];
const dir = mkdtempSync(join(tmpdir(), 'fpsolve-outputs2-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hashes = (d: string): Record<string, string> =>
  Object.fromEntries(
    readdirSync(d, { withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => [e.name, createHash('sha256').update(readFileSync(join(d, e.name))).digest('hex')]),
  );

function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l.length > 0);
  expect(lines, stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
  return lines[0]!;
}

describe("a sweep's own files that are not regular files are refused before they are opened", () => {
  for (const [name, make] of [
    ['results.jsonl as a FIFO (opening it blocked forever)', (d: string) => execFileSync('mkfifo', [join(d, 'results.jsonl')])],
    ['sweep.json as a FIFO', (d: string) => execFileSync('mkfifo', [join(d, 'sweep.json')])],
    ['results.jsonl as a link to /dev/full', (d: string) => execFileSync('ln', ['-s', '/dev/full', join(d, 'results.jsonl')])],
    ['sweep.json as a link to /dev/zero', (d: string) => execFileSync('ln', ['-s', '/dev/zero', join(d, 'sweep.json')])],
  ] as const) {
    it(name, async () => {
      const out = mkdtempSync(join(dir, 'sw-'));
      make(out);
      const r = await runCli(['sweep', PEARSON, ...SWEEP, '--set', 'noise.eta=0.05,0.1', '--jobs', '1', '--no-plots', '--out', out]);
      expect(r.exitCode).toBe(2);
      expect(oneLine(r.stderr)).toMatch(/not a regular file/);
    }, 60_000);
  }

  it('sweep merge refuses a FIFO results.jsonl in an input, and --out equal to an input', async () => {
    const a = join(dir, 'm-a');
    const r0 = await runCli(['sweep', PEARSON, ...SWEEP, '--set', 'noise.eta=0.05,0.1', '--jobs', '1', '--no-plots', '--shard', '1/2', '--out', a]);
    expect(r0.exitCode, r0.stderr).toBe(0);
    const b = join(dir, 'm-b');
    const r1 = await runCli(['sweep', PEARSON, ...SWEEP, '--set', 'noise.eta=0.05,0.1', '--jobs', '1', '--no-plots', '--shard', '2/2', '--out', b]);
    expect(r1.exitCode, r1.stderr).toBe(0);
    const before = hashes(a);
    const same = await runCli(['sweep', 'merge', a, b, '--no-plots', '--out', a]);
    expect(same.exitCode).toBe(2);
    expect(oneLine(same.stderr)).toMatch(/also given as --out/);
    expect(hashes(a)).toEqual(before);
    const f = join(dir, 'm-fifo');
    mkdirSync(f);
    writeFileSync(join(f, 'sweep.json'), readFileSync(join(b, 'sweep.json')));
    execFileSync('mkfifo', [join(f, 'results.jsonl')]);
    const fifo = await runCli(['sweep', 'merge', a, f, '--no-plots', '--out', join(dir, 'm-out')]);
    expect(fifo.exitCode).toBe(2);
    expect(oneLine(fifo.stderr)).toMatch(/results\.jsonl.*not a regular file/);
    // A record outside the sweep (index 99 of 2 points), and a foreign point under an existing index.
    for (const [tag, edit] of [
      ['outside', (r: Record<string, unknown>) => ({ ...r, index: 99 })],
      ['foreign', (r: Record<string, unknown>) => ({ ...r, key: 'deadbeef'.repeat(8) })],
    ] as const) {
      const c = join(dir, `m-${tag}`);
      mkdirSync(c);
      // The foreign line sits in a copy of shard 2/2 (shard 1/2 given twice is refused on its own).
      writeFileSync(join(c, 'sweep.json'), readFileSync(join(tag === 'outside' ? a : b, 'sweep.json')));
      const line = JSON.parse(readFileSync(join(a, 'results.jsonl'), 'utf8').split('\n')[0]!) as Record<string, unknown>;
      writeFileSync(join(c, 'results.jsonl'), JSON.stringify(edit(line)) + '\n');
      const bad = await runCli(['sweep', 'merge', tag === 'outside' ? c : a, ...(tag === 'outside' ? [b] : [c]), '--no-plots', '--out', join(dir, `m-out-${tag}`)]);
      expect(bad.exitCode, `${tag}: ${bad.stderr}`).toBe(2);
      expect(oneLine(bad.stderr)).toMatch(tag === 'outside' ? /outside this sweep's points 0\.\.1/ : /two different points under index/);
    }
  }, 120_000);
});

describe('a failed write never leaves report.json beside another run’s files', () => {
  it('run: figures/ that exists as a file or a link stops the swap before anything is removed', async () => {
    for (const blocker of ['file', 'link'] as const) {
      const out = join(dir, `run-${blocker}`);
      const first = await runCli(['run', PEARSON, '--quiet', '--set', 'domain.cells=[300]', '--set', 'time.end=2', '--out', out]);
      expect(first.exitCode, first.stderr).toBe(0);
      const before = hashes(out);
      if (blocker === 'file') writeFileSync(join(out, 'figures'), '');
      else execFileSync('ln', ['-s', '/proc/self', join(out, 'figures')]);
      const r = await runCli(['run', PEARSON, ...BASE, '--plots', '--out', out]);
      expect(r.exitCode).toBe(74);
      expect(oneLine(r.stderr)).toMatch(/figures: cannot write: exists and is not a directory/);
      const after = hashes(out);
      delete after['figures'];
      expect(after).toEqual(before);
      expect(readdirSync(out).some((n) => n.startsWith('.fpsolve-staging-'))).toBe(false);
    }
  }, 120_000);

  it('simulate: an earlier report.json is removed before the new files are written', async () => {
    const out = join(dir, 'sim');
    const sim = (cells: number): Promise<{ exitCode: number; stderr: string }> =>
      runCli(['simulate', PEARSON, '--quiet', '--set', `domain.cells=[${cells}]`, '--set', 'time.end=0.5', '--particles', '1000', '--no-plots', '--out', out]);
    const first = await sim(60);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(existsSync(join(out, 'report.json'))).toBe(true);
    // pde.npy as a directory: the second run writes times.npy, then fails on pde.npy.
    rmSync(join(out, 'pde.npy'));
    mkdirSync(join(out, 'pde.npy'));
    const r = await sim(80);
    expect(r.exitCode).toBe(74);
    oneLine(r.stderr);
    // The earlier report.json would vouch for the new times.npy: it must be gone.
    expect(existsSync(join(out, 'report.json'))).toBe(false);
  }, 120_000);
});
