/**
 * Headless figure rendering: a Vega-Lite spec → SVG text, in Node, with no browser.
 * Every figure fpsolve writes goes through here so fonts, sizes and colours stay consistent.
 */
import type { TopLevelSpec } from 'vega-lite';

/** Renders a Vega-Lite spec to a standalone SVG document. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  // vega-lite's ESM build uses top-level await, so it cannot be require()d: import it lazily,
  // which also keeps `fpsolve run` without --plots from paying for loading it.
  const vl = await import('vega-lite');
  const vega = await import('vega');
  const font = 'DejaVu Sans, Helvetica, Arial, sans-serif';
  // Merge rather than replace, so a spec's own config keeps the shared font.
  const compiled = vl.compile({ ...spec, config: { font, ...spec.config } } as TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
