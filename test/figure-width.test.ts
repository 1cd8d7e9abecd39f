/**
 * Every figure of report.html fits the page: its SVG's declared width is at most the page's
 * content width (body max-width in the page's own CSS) and FIGURE_MAX_WIDTH (a 1200-px window
 * less a scrollbar), so no legend is cut off and no horizontal scrollbar appears. Checked on the
 * rendered SVGs of a square 2-D box (ρ, π, log(ρ/π) at 480 px, independent legends), a tall
 * 2-D box and the 3-D mid-slices, with small multiples over time.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIGURE_MAX_WIDTH } from '../src/plot/common.js';
import { PANEL_SIZE } from '../src/plot/heatmap.js';
import { buildRunFigures, snapshotTimes } from '../src/plot/run-figures.js';
import { renderHtmlReport } from '../src/report/html.js';
import { runScenario } from '../src/run/run.js';
import { loadScenario } from '../src/scenario/load.js';
import { packageRoot } from '../src/paths.js';

const scenario = (name: string): string => join(packageRoot(), 'scenarios', `${name}.yaml`);

/** The width attribute of the page's inline SVGs, by figure id. */
function svgWidths(html: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of html.matchAll(/<figure id="figure-([a-z0-9-]+)">\s*<svg\b([^>]*)>/g)) {
    const w = /\swidth="([0-9.]+)"/.exec(m[2]!);
    if (w === null) throw new Error(`figure ${m[1]}: svg without a width`);
    out.set(m[1]!, Number(w[1]));
  }
  return out;
}

describe('report.html figures fit the page width', () => {
  for (const [name, sets] of [
    ['ou-2d', ['domain.cells=[48,48]', 'time.end=0.5']],
    ['double-well-2d', ['domain.cells=[24,24]', 'time.end=0.2']],
    ['quadratic-floor-3d', ['domain.cells=[10,10,10]', 'time.end=0.2']],
  ] as const) {
    it(`${name}: every figure's SVG is no wider than the page's content width`, async () => {
      const loaded = loadScenario(scenario(name), [...sets]);
      const result = await runScenario(loaded, { gap: false, snapshots: snapshotTimes(loaded.scenario.time.end) });
      const figures = await buildRunFigures(result, { snapshots: result.snapshots });
      const html = renderHtmlReport(result.report, figures);
      const page = /body\s*\{[^}]*max-width:\s*([0-9]+)px/.exec(html);
      expect(page, 'the page states its max-width').not.toBeNull();
      const pageWidth = Number(page![1]);
      expect(FIGURE_MAX_WIDTH).toBeLessThanOrEqual(Math.min(pageWidth, 1200) - 20);
      const widths = svgWidths(html);
      expect([...widths.keys()].sort()).toEqual(figures.map((f) => f.name).sort());
      expect(widths.get('fields')).toBeGreaterThan(0);
      for (const [fig, w] of widths) expect(w, `${name}: figure ${fig}`).toBeLessThanOrEqual(FIGURE_MAX_WIDTH);
      // A wider SVG (e.g. a scenario's long legend) scales down with the page instead of overflowing.
      expect(html).toMatch(/figure svg \{[^}]*max-width: 100%;[^}]*height: auto;/);
    }, 30_000);
  }

  it('the square 2-D box keeps its 480-px panels (the fit comes from the layout, not from shrinking them)', async () => {
    const loaded = loadScenario(scenario('ou-2d'), ['domain.cells=[48,48]', 'time.end=0.2']);
    const result = await runScenario(loaded, { gap: false });
    const [fields] = (await buildRunFigures(result)).filter((f) => f.name === 'fields');
    expect(PANEL_SIZE).toBeGreaterThanOrEqual(480);
    // Two panels side by side in the first row: at least 2 × 480 px of plot inside the figure.
    const w = Number(/<svg\b[^>]*\swidth="([0-9.]+)"/.exec(fields!.svg)![1]);
    expect(w).toBeGreaterThanOrEqual(2 * PANEL_SIZE);
    expect(w).toBeLessThanOrEqual(FIGURE_MAX_WIDTH);
  }, 30_000);
});
