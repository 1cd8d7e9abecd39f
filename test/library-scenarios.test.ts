/**
 * bundledScenario / bundledScenarios (src/library/scenarios.ts): the scenarios shipped in the
 * package, found from the package and not from the working directory (docs/library.md's snippet).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { bundledScenario, bundledScenarios, loadScenario, InputError } from '../src/library/index.js';

// This test file sits in <repo>/test: the repository's own scenarios/ folder, found without packageRoot().
const REPO = dirname(dirname(fileURLToPath(import.meta.url)));
const tmp = mkdtempSync(join(tmpdir(), 'fps-bundled-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('bundled scenarios', () => {
  it('lists every scenarios/*.yaml and resolves each to that file, which loads', () => {
    const onDisk = readdirSync(join(REPO, 'scenarios')).filter((n) => n.endsWith('.yaml')).map((n) => n.replace(/\.yaml$/, '')).sort();
    expect(onDisk).toContain('pearson-1d');
    expect(bundledScenarios()).toEqual(onDisk);
    for (const name of onDisk) expect(realpathSync(bundledScenario(name))).toBe(realpathSync(join(REPO, 'scenarios', `${name}.yaml`)));
    expect(loadScenario(bundledScenario('pearson-1d'), ['domain.cells=[100]']).scenario.name).toBe('pearson-1d');
  });

  it('an unknown name or a path is an InputError listing the names, not a file outside scenarios/', () => {
    for (const bad of ['nope', '../package', 'pearson-1d.yaml', '', 'a\nb']) {
      let err: unknown;
      try {
        bundledScenario(bad);
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(InputError);
      const msg = (err as InputError).message;
      expect(msg.split('\n')).toHaveLength(1);
      expect(msg).toContain('bundled: ');
      expect(msg).toContain('pearson-1d');
    }
  });

  it("an installed package's script, run from a directory without scenarios/, loads one (docs/library.md)", () => {
    // node_modules/fpsolve -> this checkout (the built dist/ the package exports), as `npm install` lays it out.
    const project = join(tmp, 'project');
    mkdirSync(join(project, 'node_modules'), { recursive: true });
    symlinkSync(REPO, join(project, 'node_modules', 'fpsolve'), 'dir');
    const script = join(project, 'use.mjs');
    writeFileSync(
      script,
      `import { loadScenario, bundledScenario } from 'fpsolve';\n` +
        `const loaded = loadScenario(bundledScenario('pearson-1d'), ['domain.cells=[50]']);\n` +
        `console.log(JSON.stringify({ name: loaded.scenario.name, cells: loaded.scenario.domain.cells, file: loaded.file }));\n`,
    );
    const r = spawnSync(process.execPath, [script], { cwd: project, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { name: string; cells: number[]; file: string };
    expect(out).toMatchObject({ name: 'pearson-1d', cells: [50] });
    expect(realpathSync(out.file)).toBe(realpathSync(join(REPO, 'scenarios', 'pearson-1d.yaml')));
  });
});
