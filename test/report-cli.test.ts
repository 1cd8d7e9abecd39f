/**
 * End-to-end outputs of `fpsolve run` (issue 8 §2–4): report.html opens in headless Chromium
 * with its figures, .npy fields read back by numpy, .vti matches the .npy, every output path is
 * printed, and no escape codes reach a pipe. Runs the built CLI (bin/fpsolve.js → dist/).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fpsolve } from './helpers/cli.js';
import { XMLParser } from 'fast-xml-parser';
import { decodePng, markGroups, pixelStats } from './report-helpers.js';
import { snapshotTimes } from '../src/plot/run-figures.js';

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'fpsolve-report-'));
  made.push(d);
  return d;
}

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  // Pipes, not a terminal: what a script or CI sees.
  const r = fpsolve(args, { env: { FORCE_COLOR: undefined } });
  return { status: r.code, stdout: r.stdout, stderr: r.stderr };
}

const chromium = ['chromium', 'chromium-browser', 'google-chrome'].find((c) => spawnSync(c, ['--version'], { stdio: 'ignore' }).status === 0);
const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

function chromiumArgs(): string[] {
  return ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${tempDir()}`];
}

describe('fpsolve run --plots --html --vti (pearson-1d, 200 cells)', () => {
  const out = join(tempDir(), 'run');
  const r = cli(['run', 'scenarios/pearson-1d.yaml', '--set', 'domain.cells=[200]', '--set', 'time.end=1', '--out', out, '--html', '--vti']);

  it('exits 0, prints every output path, and writes no escape codes to a pipe', () => {
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).not.toContain('\x1b');
    const listed = r.stdout.split('wrote:\n')[1].trim().split('\n').map((l) => l.trim());
    const expected = ['series.csv', 'density.npy', 'density-axis0.npy', 'density.json', 'pi.npy', 'pi-axis0.npy', 'pi.json', 'density.vti', 'pi.vti', 'figures/density.svg', 'figures/density-log.svg', 'figures/distances.svg', 'report.html', 'report.json'];
    expect(listed).toEqual(expected.map((f) => join(out, f)));
    for (const p of listed) expect(existsSync(p)).toBe(true);
  });

  it('report.html is self-contained: no scripts, no external references, every figure inline', () => {
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import/i);
    // xmlns attributes name namespaces and are never fetched; any other URL would be.
    expect(html.replace(/xmlns(:\w+)?="[^"]*"/g, '')).not.toMatch(/https?:\/\//);
    expect((html.match(/<svg\b/g) ?? []).length).toBe(3);
    // ids are unique in the page (vega restarts clip ids per SVG)
    const ids = [...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it.skipIf(!chromium)('opens in headless Chromium without console errors and shows its figures', () => {
    const url = `file://${join(out, 'report.html')}`;
    const dom = spawnSync(chromium!, [...chromiumArgs(), '--enable-logging=stderr', '--v=0', '--dump-dom', url], { encoding: 'utf8', timeout: 60_000 });
    expect(dom.status).toBe(0);
    // Page console messages (script errors, CSP refusals) are logged as CONSOLE lines.
    expect(dom.stderr.split('\n').filter((l) => /CONSOLE|Refused to|Uncaught/.test(l))).toEqual([]);
    expect((dom.stdout.match(/<svg\b/g) ?? []).length).toBe(3);
    expect((dom.stdout.match(/<figure\b/g) ?? []).length).toBe(3);
    expect(dom.stdout).toContain('pearson-1d');

    const shot = join(tempDir(), 'shot.png');
    const s = spawnSync(chromium!, [...chromiumArgs(), '--window-size=1200,2400', '--hide-scrollbars', `--screenshot=${shot}`, url], { encoding: 'utf8', timeout: 60_000 });
    expect(s.status).toBe(0);
    const img = decodePng(readFileSync(shot));
    expect([img.width, img.height]).toEqual([1200, 2400]);
    const st = pixelStats(img);
    // Text, table rules and three line figures: about 4% of a 1200×2400 page (a blank page: 0).
    expect(st.nonBackground).toBeGreaterThan(0.02);
    expect(st.variance).toBeGreaterThan(100);
  });
});

describe('fpsolve run --json --vti (ou-2d, 24×24): files other tools read', () => {
  const out = join(tempDir(), 'run');
  const r = cli(['run', 'scenarios/ou-2d.yaml', '--set', 'domain.cells=[24,32]', '--set', 'time.end=0.3', '--out', out, '--vti', '--json']);
  const report = JSON.parse(r.stdout) as { final: { mass: number; minDensity: number; t: number }; grid: { bounds: [number, number][]; h: number[] } };

  it('--json: stdout is report.json alone, paths on stderr, no escape codes', () => {
    expect(r.status).toBe(0);
    expect(r.stdout + r.stderr).not.toContain('\x1b');
    expect(r.stdout).toBe(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(r.stderr).toContain(join(out, 'density.vti'));
  });

  it.skipIf(!hasNumpy)('numpy reads density.npy, its axes and manifest; values agree with report.json', () => {
    const py = `
import json, sys, numpy as np
d = sys.argv[1]
m = json.load(open(d + '/density.json'))
rho = np.load(d + '/' + m['field'])
x = np.load(d + '/' + m['axes'][0]['file']); y = np.load(d + '/' + m['axes'][1]['file'])
pi = np.load(d + '/pi.npy')
with open(d + '/density.npy', 'rb') as f:
    ver = np.lib.format.read_magic(f); shape, fortran, dtype = (np.lib.format.read_array_header_1_0 if ver == (1, 0) else np.lib.format.read_array_header_2_0)(f)
print(json.dumps({'ver': list(ver), 'shape': list(shape), 'fortran': fortran, 'dtype': dtype.str, 'manifestShape': m['shape'], 'mass': float(rho.sum() * (x[1]-x[0]) * (y[1]-y[0])), 'min': float(rho.min()), 'x0': float(x[0]), 'xn': float(x[-1]), 'y0': float(y[0]), 'ny': len(y), 'piMass': float(pi.sum() * (x[1]-x[0]) * (y[1]-y[0])), 't': m['meta']['t']}))
`;
    const p = spawnSync('python3', ['-c', py, out], { encoding: 'utf8' });
    expect(p.stderr).toBe('');
    const v = JSON.parse(p.stdout) as Record<string, number | number[] | boolean | string>;
    expect(v.ver).toEqual([1, 0]);
    expect(v.shape).toEqual([24, 32]);
    expect(v.manifestShape).toEqual([24, 32]);
    expect(v.fortran).toBe(false);
    expect(v.dtype).toBe('<f8');
    // The solver's own mass and min ρ (report.json) from the same field, read independently.
    expect(v.mass as number).toBeCloseTo(report.final.mass, 12);
    expect(v.min).toBe(report.final.minDensity);
    expect(v.t).toBe(report.final.t);
    // Cell centres: lo + h/2 … hi − h/2 on [−2, 2] with 24 and 32 cells.
    expect(v.x0 as number).toBeCloseTo(-2 + 4 / 48, 14);
    expect(v.xn as number).toBeCloseTo(2 - 4 / 48, 14);
    expect(v.y0 as number).toBeCloseTo(-2 + 4 / 64, 14);
    expect(v.ny).toBe(32);
    // π is normalized on the grid
    expect(v.piMass as number).toBeCloseTo(1, 12);
  });

  it.skipIf(!hasNumpy)('density.vti holds the same values as density.npy, in VTK order (x fastest)', () => {
    const xml = new XMLParser({ ignoreAttributes: false }).parse(readFileSync(join(out, 'density.vti'), 'utf8')) as {
      VTKFile: { ImageData: { '@_WholeExtent': string; '@_Spacing': string; Piece: { CellData: { DataArray: { '#text': string } } } } };
    };
    const img = xml.VTKFile.ImageData;
    expect(img['@_WholeExtent']).toBe('0 24 0 32 0 0');
    expect(img['@_Spacing'].split(' ').map(Number).slice(0, 2)).toEqual([4 / 24, 4 / 32]);
    const raw = Buffer.from(img.Piece.CellData.DataArray['#text'].trim(), 'base64');
    const count = Number(raw.readBigUInt64LE(0)) / 8;
    expect(count).toBe(24 * 32);
    const vti = Array.from({ length: count }, (_, k) => raw.readDoubleLE(8 + 8 * k));
    const p = spawnSync('python3', ['-c', 'import sys, json, numpy as np; print(json.dumps(np.load(sys.argv[1]).T.ravel().tolist()))', join(out, 'density.npy')], { encoding: 'utf8' });
    expect(vti).toEqual(JSON.parse(p.stdout));
  });
});

/** Text of an HTML fragment with its entities decoded (the page escapes &, <, >, " and '). */
function htmlText(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
}

describe('fpsolve run --html on a collapsing 2-D run (feng-tu-2d without its floor, 32×48)', () => {
  const out = join(tempDir(), 'run');
  const end = 0.5;
  const r = cli(['run', 'scenarios/feng-tu-2d.yaml', '--set', 'landscape.params.floor=0', '--set', 'domain.cells=[32,48]', '--set', `time.end=${end}`, '--set', 'time.reportEvery=0.05', '--out', out, '--html']);
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  const summary = r.stdout.split('\nwrote:\n')[0];
  const notesHtml = html.slice(html.indexOf('<h2 id="notes">'), html.indexOf('</ul>', html.indexOf('<h2 id="notes">')));
  const items = [...notesHtml.matchAll(/<li>([\s\S]*?)<\/li>/g)].map((m) => htmlText(m[1]));

  it('every note, refusal and verdict the console printed is in the Notes section', () => {
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    const lines = summary.split('\n');
    const consoleNotes = lines.filter((l) => l.startsWith('note: ')).map((l) => l.slice('note: '.length));
    expect(consoleNotes.length).toBeGreaterThanOrEqual(4);
    for (const n of consoleNotes) expect(items).toContain(n);
    // the regime verdict and its reason (the line after 'regime: collapsing')
    const at = lines.indexOf('regime: collapsing');
    expect(at).toBeGreaterThan(0);
    expect(items).toContain(`regime "collapsing": ${lines[at + 1].trim()}`);
    // refused rates and the unconverged eigen-solve, printed outside the 'note:' lines
    const refusals = lines.map((l) => /–\s+no rate: (.*)$/.exec(l)?.[1]).filter((x): x is string => x !== undefined);
    expect(refusals.length).toBeGreaterThan(0);
    for (const why of refusals) expect(items.some((i) => i.startsWith('no rate for ') && i.endsWith(why))).toBe(true);
    for (const flag of ['NOT CONVERGED', 'IN DOUBT', 'CHANGES IDENTITY', 'OUTSIDE']) {
      if (summary.includes(flag)) expect(items.some((i) => i.includes(flag))).toBe(true);
    }
  });

  it('the console summary is in the page verbatim', () => {
    const pre = /<pre class="console">([\s\S]*?)<\/pre>/.exec(html);
    expect(pre).not.toBeNull();
    expect(htmlText(pre![1])).toBe(summary);
  });

  it('figures: 480-px fields on log colour scales, ρ at every kept report time as small multiples, marginals, distances, the valley marginal', () => {
    // The fifth: the marginal along the valley y = 0 (one basin, so no basin-mass figure).
    expect((html.match(/<svg\b/g) ?? []).length).toBe(5);
    expect(existsSync(join(out, 'figures', 'valley-1.svg'))).toBe(true);
    expect(existsSync(join(out, 'figures', 'density-time.svg'))).toBe(true);
    // the kept times: for each asked time, the first report time at or after it (report.json's series)
    const times = (JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { series: { t: number }[] }).series.map((p) => p.t);
    const kept = new Set(snapshotTimes(end).map((t) => times.find((x) => x >= t - 1e-12 * end)));
    const svg = readFileSync(join(out, 'figures', 'density-time.svg'), 'utf8');
    expect(markGroups(svg, 'heatmap_t\\d')).toEqual(new Array(kept.size).fill(32 * 48));
    expect(html).toContain('log colour scale: values below 1e-6·max');
    const ids = [...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it.skipIf(!chromium)('opens in headless Chromium without console errors, Notes and figures shown', () => {
    const url = `file://${join(out, 'report.html')}`;
    // The page is over 1 MB: spawnSync's default maxBuffer would cut the DOM short.
    const dom = spawnSync(chromium!, [...chromiumArgs(), '--enable-logging=stderr', '--v=0', '--dump-dom', url], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 << 20 });
    expect(dom.status).toBe(0);
    expect(dom.stderr.split('\n').filter((l) => /CONSOLE|Refused to|Uncaught/.test(l))).toEqual([]);
    expect((dom.stdout.match(/<figure\b/g) ?? []).length).toBe(5);
    expect(dom.stdout).toContain('<h2 id="notes">Notes</h2>');
  });
});

describe('CLI errors', () => {
  it.each(['--html'])('%s without --out is bad input (exit 2, one line)', (flag) => {
    const r = cli(['run', 'scenarios/pearson-1d.yaml', flag]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`${flag} writes into the output directory`);
  });
});
