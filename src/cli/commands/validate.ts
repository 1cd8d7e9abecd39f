import { Command } from 'commander';
import { loadScenario } from '../../scenario/load.js';
import { setUp } from '../../run/setup.js';
import { setOption } from './shared.js';
import { checkStepBudget } from '../../run/budget.js';
import { isMatrixNoise } from '../../scenario/types.js';
import { buildDiffusion } from '../../noise/index.js';
import { Grid } from '../../../solvers/grid.js';

export function validateCommand(): Command {
  return new Command('validate')
    .description('check a scenario file (schema, expression, landscape on the grid) without solving')
    .argument('<scenario...>', 'scenario files')
    .addOption(setOption())
    .addHelpText('after', '\nExample:\n  $ fpsolve validate scenarios/*.yaml\n\nExit codes: 0 all valid, 2 the first invalid file (its error names the file and field).')
    .action((files: string[], o: { set: string[] }) => {
      for (const file of files) {
        const loaded = loadScenario(file, o.set);
        if (isMatrixNoise(loaded.scenario.noise)) {
          // The reversible set-up (π, the symmetric operator) does not apply; the noise's grid checks do.
          const grid = new Grid(loaded.scenario.domain.bounds, loaded.scenario.domain.cells);
          const diffusion = buildDiffusion(loaded, grid);
          process.stdout.write(`${file}: ok (${grid.n.join('×')} cells, ${diffusion.description}; D symmetric positive semi-definite at every cell centre and face midpoint)\n`);
          continue;
        }
        const s = setUp(loaded);
        // validate refuses what run would refuse before its first step.
        checkStepBudget(loaded, s.op.explicitLimit());
        process.stdout.write(`${file}: ok (${s.grid.n.join('×')} cells, regime ${s.regime.regime})\n`);
      }
    });
}
