#!/usr/bin/env bash
# The npm tarball as a user gets it (#20, docs/library.md): pack, install it into an empty folder,
# then from there run a bundled scenario through `npx fpsolve`, the library example, and a
# TypeScript consumer of the declarations. Fails on install-script warnings, on a tarball that
# lacks what the README links to or that ships compiled tests, and on GPU packages in a
# CPU-only install. Needs the npm registry (the tarball's dependencies are installed from it).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d "${TMPDIR:-/tmp}/fpsolve-pack.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() {
  echo "pack-smoke: FAILED: $*" >&2
  exit 1
}

# npm pack runs prepack (= npm run build), so the tarball holds a fresh dist/.
npm pack --json --pack-destination "$work" >"$work/pack.json" 2>"$work/pack.err" || { cat "$work/pack.err" >&2; fail "npm pack"; }
tgz="$work/$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))[0].filename)' "$work/pack.json")"
[ -f "$tgz" ] || fail "npm pack wrote no tarball"

# Contents: what the README and docs point at, the compiled CLI and library, and no tests or maps.
node - "$work/pack.json" <<'EOF' || fail "tarball contents (above)"
const files = new Set(JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'))[0].files.map((f) => f.path));
const need = ['README.md', 'LICENSE', 'package.json', 'bin/fpsolve.js', 'bin/bundle-entry.js', 'dist/bundle/cli.cjs', 'dist/src/library/index.js', 'dist/src/library/index.d.ts', 'dist/src/cli/main.js',
  'dist/schema/scenario.validate.cjs', 'schema/scenario.schema.json', 'scenarios/pearson-1d.yaml', 'baselines/rates.yaml',
  'docs/library.md', 'docs/oracles.md', 'examples/library.mjs'];
const problems = need.filter((f) => !files.has(f)).map((f) => `missing ${f}`);
for (const f of files) {
  if (f.startsWith('dist/test/') || f.startsWith('test/') || f.endsWith('.map') || f === 'dist/bundle/manifest.json' || /(^|\/)node_modules\//.test(f)) problems.push(`should not ship ${f}`);
}
// Every docs/*.md link the README makes must resolve inside the tarball.
const readme = require('fs').readFileSync('README.md', 'utf8');
for (const m of readme.matchAll(/\]\(((?:docs|examples|scenarios|schema|baselines)\/[^)#\s]+)/g)) if (!files.has(m[1])) problems.push(`README links ${m[1]}, not in the tarball`);
if (problems.length) { console.error(problems.slice(0, 20).join('\n')); process.exit(1); }
console.log(`pack-smoke: tarball holds ${files.size} files, none of them tests`);
EOF

app="$work/app"
mkdir "$app"
cd "$app"
printf '{ "name": "fpsolve-pack-smoke", "version": "1.0.0", "private": true, "type": "module" }\n' >package.json
npm install --no-audit --no-fund "$tgz" >install.out 2>install.err || { cat install.out install.err >&2; fail "npm install of the tarball"; }
cat install.err >&2
if grep -Eiq 'install-scripts|allowScripts|install script' install.err install.out; then fail "npm printed install-script warnings (above)"; fi
for gpu in gpu.js webgpu gl; do
  [ ! -e "node_modules/$gpu" ] || fail "a CPU-only install got the GPU package $gpu (it should be an optional peer)"
done

# The installed CLI starts from the shipped bundle (#19.4): an install has no sources, so no manifest check.
node --input-type=module -e "const m = await import('./node_modules/fpsolve/bin/bundle-entry.js'); const e = m.cliEntry('node_modules/fpsolve'); if (!e || !e.endsWith('dist/bundle/cli.cjs')) { console.error('bin/fpsolve.js would run ' + e); process.exit(1); }" || fail "the installed package does not run its bundle"

# The CLI from the installed package, as the README runs it.
npx --no-install fpsolve run node_modules/fpsolve/scenarios/pearson-1d.yaml --out run >run.out 2>run.err || { cat run.out run.err >&2; fail "npx fpsolve run exited $?"; }
grep -q 'regime: converging' run.out || { cat run.out >&2; fail "no 'regime: converging' in the run summary"; }
grep -q 'spectral gap' run.out || { cat run.out >&2; fail "no spectral gap in the run summary"; }
[ -s run/report.json ] && [ -s run/density.npy ] || fail "the run wrote no report.json/density.npy"
if grep -Eiq 'vulkan|dawn|webgpu' run.err; then cat run.err >&2; fail "a CPU run printed GPU-probe messages"; fi
node -e 'const r = JSON.parse(require("fs").readFileSync("run/report.json", "utf8")); if (r.status !== "ok" || !(Math.abs(r.gap.value - 1) < 2e-3)) { console.error(`report.json: status ${r.status}, gap ${r.gap && r.gap.value} (exact 2b = 1, docs/oracles.md §1)`); process.exit(1); }' || fail "report.json of the installed run"

# Asking for a gpu.js backend in this CPU-only install: one line saying what to install, exit 2.
set +e
npx --no-install fpsolve run node_modules/fpsolve/scenarios/pearson-1d.yaml -q --no-gap --backend webasm --out webasm >webasm.out 2>webasm.err
code=$?
set -e
if [ "$code" != 2 ] || [ "$(wc -l <webasm.err)" != 1 ] || ! grep -q 'npm install gpu.js' webasm.err; then cat webasm.err >&2; fail "--backend webasm without gpu.js: exit $code, expected 2 and one line naming the packages to install"; fi

# The library example, importing 'fpsolve' from node_modules.
node node_modules/fpsolve/examples/library.mjs || fail "examples/library.mjs against the installed package"

# A TypeScript consumer resolves the declarations through package.json "exports" (no `any` leaks in).
cat >consumer.ts <<'EOF'
import { scenarioFromObject, setUp, invariantDensityView, type FieldView, type LoadedScenario } from 'fpsolve';
const loaded: LoadedScenario = scenarioFromObject({
  name: 'ts-consumer',
  landscape: { expr: 'x^2/2 + 1' },
  domain: { bounds: [[-2, 2]], cells: [40] },
  noise: { model: 'additive', D: 0.5 },
  initial: { uniform: {} },
  time: { end: 0.1, reportEvery: 0.1 },
});
const pi: FieldView = invariantDensityView(setUp(loaded));
const first: number = pi.array.get(0);
console.log(first > 0 ? 'ts consumer: ok' : 'ts consumer: bad');
EOF
cat >tsconfig.json <<EOF
{ "compilerOptions": { "target": "ES2022", "module": "NodeNext", "moduleResolution": "NodeNext", "strict": true, "noImplicitAny": true,
  "noEmit": true, "types": ["node"], "typeRoots": ["$root/node_modules/@types"] }, "files": ["consumer.ts"] }
EOF
"$root/node_modules/.bin/tsc" -p tsconfig.json || fail "the TypeScript consumer does not type-check against the installed declarations"

echo "pack-smoke: OK (tarball installs without script warnings; npx fpsolve run, examples/library.mjs and a TypeScript consumer work from it)"
