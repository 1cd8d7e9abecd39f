/**
 * report.html's Notes (issue 20 §5): for reports that set each warning the console summary can
 * print (a failed run, an unconverged or doubtful λ₁, a λ₁ outside its bracket, an "undecided"
 * regime, refused rates), the page's Notes hold what the console summary printed for the same
 * report. The console text (formatSummary) is the independent side of each comparison.
 */
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../src/scenario/load.js';
import { runScenario } from '../src/run/run.js';
import { formatSummary } from '../src/report/summary.js';
import { renderHtmlReport } from '../src/report/html.js';
import type { RunReport } from '../src/report/types.js';

function htmlText(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
}

/** The <li> items of the page's Notes section, as text. */
function notesOf(html: string): string[] {
  const at = html.indexOf('<h2 id="notes">');
  if (at < 0) return [];
  return [...html.slice(at, html.indexOf('</ul>', at)).matchAll(/<li>([\s\S]*?)<\/li>/g)].map((m) => htmlText(m[1]));
}

/**
 * What a reader must find in the Notes for each console line that warns: the text after 'note:',
 * 'no rate:' or 'IN DOUBT:', the upper-case verdicts, and the error of a run that did not finish.
 */
function consoleWarnings(r: RunReport): { find: string; from: string }[] {
  const lines = formatSummary(r).split('\n');
  const out: { find: string; from: string }[] = [];
  lines.forEach((l, k) => {
    let m: RegExpExecArray | null;
    if ((m = /^note: (.*)$/.exec(l))) out.push({ find: m[1], from: l });
    else if ((m = /no rate: (.*)$/.exec(l))) out.push({ find: m[1], from: l });
    else if ((m = /IN DOUBT: (.*)$/.exec(l))) out.push({ find: m[1], from: l });
    for (const flag of ['NOT CONVERGED', 'CHANGES IDENTITY', 'OUTSIDE']) if (l.includes(flag)) out.push({ find: flag, from: l });
    if (k === 0 && (m = / — (.*)$/.exec(l))) out.push({ find: m[1], from: l });
    if (/^regime: (collapsing|undecided)$/.test(l)) out.push({ find: lines[k + 1].trim(), from: l });
  });
  return out;
}

describe('report.html Notes: every warning of the console summary', async () => {
  const base = (await runScenario(loadScenario('scenarios/pearson-1d.yaml', ['domain.cells=[200]', 'time.end=1']))).report;
  const clone = (): RunReport => structuredClone(base);

  const cases: [string, (r: RunReport) => void][] = [
    ['as run', () => undefined],
    ['a failed run', (r) => Object.assign(r, { status: 'failed', error: 'non-finite density at t = 0.3 (step 12)' })],
    ['an unconverged, doubtful λ₁', (r) => Object.assign(r.gap!, { converged: false, doubt: 'λ₁ is in doubt: two start vectors gave different λ₁', notes: [...r.gap!.notes, 'a gap note'] })],
    ['λ₁ outside the Muckenhoupt bracket', (r) => Object.assign(r.bounds!.muckenhoupt!, { contains: false })],
    ['λ₁ changing identity under Richardson', (r) => Object.assign(r.gap!, { extrapolated: { coarse: 1, fine: 1.1, value: 1.13, errorEstimate: 0.03, identityChanged: true } })],
    ['an undecided regime and refused rates', (r) => Object.assign(r, { regime: 'undecided', regimeReason: 'the measured exponent is within its error of α', rates: { chi: null, kl: null, meanLoss: r.rates.meanLoss }, rateRefusals: { chi: 'plateau at round-off' } })],
  ];

  it.each(cases)('%s', (_name, mutate) => {
    const r = clone();
    mutate(r);
    const notes = notesOf(renderHtmlReport(r, []));
    const wanted = consoleWarnings(r);
    for (const w of wanted) expect(notes.some((n) => n.includes(w.find)), `console line '${w.from}' has no note`).toBe(true);
    // The unchanged report has notes only if its summary has warnings: no Notes invented.
    if (_name === 'as run') expect(notes.length === 0).toBe(wanted.length === 0);
    else expect(wanted.length).toBeGreaterThan(0);
  });

  it('what the command adds (figures not written) comes first; everything is escaped', () => {
    const r = clone();
    r.notes = ['a < b & "c"'];
    const html = renderHtmlReport(r, [], ['figures not written: <oops>']);
    expect(notesOf(html).slice(0, 1)).toEqual(['figures not written: <oops>']);
    expect(notesOf(html)).toContain('a < b & "c"');
    expect(html).not.toContain('<oops>');
  });
});
