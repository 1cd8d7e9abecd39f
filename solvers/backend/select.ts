import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FvOperator } from '../operator.js';
import { CpuBackend } from './cpu.js';
import type { Backend, BackendInfo } from './types.js';
import type { GpuJsMode } from './gpujs.js';
import { gpuRecordPath, recordVerdict, sameDevice } from './gpu-record.js';

/** `--backend`: auto, cpu (float64), gpu (a real GPU through gpu.js), webasm (gpu.js WebAssembly, float32). */
export type BackendChoice = 'auto' | 'cpu' | 'gpu' | 'webasm';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'cpu', 'gpu', 'webasm'];

/**
 * Cells below which auto does not look further: 512², the smallest grid the device check
 * (bench/gpu-device.sh) measures, so no recorded benchmark can speak for a smaller one.
 */
export const AUTO_GPU_MIN_CELLS = 512 * 512;

/** A requested backend that cannot run here; the CLI maps it to exit 2 naming --backend. */
export class BackendUnavailable extends Error {
  override readonly name = 'BackendUnavailable';
}

/** What a probe for a real GPU found. */
export interface GpuProbe {
  mode?: 'webgpu' | 'headlessgl';
  device?: string;
  /** true for Mesa llvmpipe/lavapipe/SwiftShader adapters. */
  software?: boolean;
  /** One line per path that is not usable, naming what is missing. */
  missing: string[];
}

const SOFTWARE = /llvmpipe|lavapipe|softpipe|swiftshader|software/i;

/** Imports a package that may be absent without TypeScript resolving it at build time. */
async function optionalImport(name: string): Promise<Record<string, unknown> | string> {
  try {
    return (await import(name)) as Record<string, unknown>;
  } catch (e) {
    const err = e as { code?: string; message?: string };
    return err.code === 'ERR_MODULE_NOT_FOUND' ? 'not installed' : `installed but cannot load (${String(err.message).split('\n')[0]})`;
  }
}

interface DawnModule {
  create(args: string[]): { requestAdapter(o?: Record<string, unknown>): Promise<unknown>; getPreferredCanvasFormat(): string };
  globals: Record<string, unknown>;
}
interface Adapter {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string };
}

let webgpuInstalled: Promise<GpuProbe> | undefined;

/**
 * Makes navigator.gpu available from the `webgpu` package (Dawn) as docs/gpujs.md §3 describes.
 * CI_SOFT_GPU=1 selects Dawn's OpenGL ES backend in compatibility mode (Mesa llvmpipe), the
 * software path CI uses; otherwise Dawn picks Vulkan (the NVIDIA/AMD ICD on a GPU server).
 */
export function installWebGpu(): Promise<GpuProbe> {
  webgpuInstalled ??= (async (): Promise<GpuProbe> => {
    const loaded = await optionalImport('webgpu');
    const mod = loaded as unknown as DawnModule;
    if (typeof loaded === 'string' || typeof mod.create !== 'function') {
      const why = typeof loaded === 'string' ? loaded : 'too old (no create())';
      return { missing: [`WebGPU: the npm package \`webgpu\` is ${why}; install webgpu@^0.6.2 (the 0.2.x that gpu.js pins needs glibc 2.38)`] };
    }
    const soft = Boolean(process.env.CI_SOFT_GPU);
    Object.assign(globalThis, mod.globals);
    const dawn = mod.create(soft ? ['backend=opengles'] : []);
    const gpu = soft
      ? { requestAdapter: (o: Record<string, unknown> = {}) => dawn.requestAdapter({ ...o, featureLevel: 'compatibility' }), getPreferredCanvasFormat: () => dawn.getPreferredCanvasFormat() }
      : dawn;
    const g = globalThis as { navigator?: { gpu?: unknown } };
    if (g.navigator) g.navigator.gpu = gpu;
    else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    const adapter = (await gpu.requestAdapter()) as Adapter | null;
    if (!adapter) {
      return { missing: ['WebGPU: `webgpu` loaded but Dawn found no adapter (needs a Vulkan driver: libvulkan1 and the GPU vendor ICD; check `vulkaninfo --summary`)'] };
    }
    const i = adapter.info ?? {};
    const device = [i.vendor, i.architecture, i.device, i.description].filter((x) => x).join(' ') || 'unknown adapter';
    return { mode: 'webgpu', device: `WebGPU (Dawn): ${device}`, software: SOFTWARE.test(device) || soft, missing: [] };
  })();
  return webgpuInstalled;
}

/**
 * Runs installWebGpu in a child process first. Dawn writes its loader warnings and native stack
 * frames ("Couldn't load Vulkan …", "at operator() (…BackendVk.cpp)") straight to fd 2, so a
 * probe that finds nothing would litter the user's stderr; in a child they are captured and
 * dropped, and Dawn is loaded here only once the child has seen an adapter. Costs one Node start
 * (about 0.3 s), paid only when a probe is due at all (autoMayProbeGpu, or --backend gpu).
 */
export function probeWebGpuInChild(): GpuProbe | undefined {
  if (!import.meta.url.endsWith('.js')) return undefined;
  const script = `import(${JSON.stringify(import.meta.url)}).then((m) => m.installWebGpu()).then((r) => process.stdout.write(JSON.stringify(r)))`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  try {
    const found = JSON.parse(r.stdout) as GpuProbe;
    return Array.isArray(found.missing) ? found : undefined;
  } catch {
    // No answer (this module run from TypeScript source, where a plain Node child cannot import it,
    // or a child that crashed): the caller probes in-process as before.
    return undefined;
  }
}

async function probeWebGpu(): Promise<GpuProbe> {
  const child = probeWebGpuInChild();
  return child && !child.mode ? child : installWebGpu();
}

async function probeHeadlessGl(): Promise<GpuProbe> {
  const gl = await optionalImport('gl');
  const create = typeof gl === 'string' ? undefined : (gl.default as ((w: number, h: number) => unknown) | undefined);
  if (typeof create !== 'function') return { missing: [`WebGL: headless-gl (npm package \`gl\`) is ${typeof gl === 'string' ? gl : 'unusable'}`] };
  const ctx = create(1, 1) as { getExtension(n: string): { UNMASKED_RENDERER_WEBGL: number } | null; getParameter(p: number): unknown; RENDERER: number } | null;
  if (!ctx) return { missing: ['WebGL: headless-gl is built but gl() returned no context (it needs an X display)'] };
  const ext = ctx.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(ctx.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : ctx.RENDERER));
  return { mode: 'headlessgl', device: `WebGL (headless-gl): ${renderer}`, software: SOFTWARE.test(renderer), missing: [] };
}

/**
 * GPU device nodes under `devDir`: NVIDIA's /dev/nvidia<N> and the DRM render nodes
 * /dev/dri/renderD<N> (AMD, Intel, and NVIDIA too) that every Vulkan or GL driver opens. Without
 * one no hardware GPU can be reached, and a Dawn probe would only print Vulkan loader warnings
 * and native stack frames on stderr, so `auto` does not probe.
 */
export function gpuDeviceNodes(devDir = '/dev'): string[] {
  const list = (dir: string): string[] => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  };
  return [
    ...list(devDir).filter((n) => /^nvidia\d+$/.test(n)).map((n) => join(devDir, n)),
    ...list(join(devDir, 'dri')).filter((n) => /^renderD\d+$/.test(n)).map((n) => join(devDir, 'dri', n)),
  ];
}

/**
 * Whether `--backend auto` may probe for a GPU: a device node exists, or CI_SOFT_GPU asks for the
 * software renderer (which needs none). `--backend gpu` always probes: the user asked for it.
 */
export function autoMayProbeGpu(devDir = '/dev', env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.CI_SOFT_GPU) || gpuDeviceNodes(devDir).length > 0;
}

/** Looks for a usable hardware GPU: WebGPU first (docs/gpujs.md §6), then headless-gl. */
export async function probeGpu(): Promise<GpuProbe> {
  const missing: string[] = [];
  for (const probe of [probeWebGpu, probeHeadlessGl]) {
    let r: GpuProbe;
    try {
      r = await probe();
    } catch (e) {
      r = { missing: [`${probe === probeWebGpu ? 'WebGPU' : 'WebGL'}: ${(e as Error).message}`] };
    }
    if (r.mode && (!r.software || process.env.CI_SOFT_GPU)) return { ...r, missing };
    missing.push(...r.missing);
    if (r.mode) missing.push(`${r.device} is a software renderer, not a GPU (set CI_SOFT_GPU=1 to use it anyway, for testing)`);
  }
  return { missing };
}

async function gpuJsBackend(op: FvOperator, mode: GpuJsMode, device?: string): Promise<Backend> {
  const { GpuJsBackend } = await import('./gpujs.js');
  // gpu.js (and the Dawn binaries it pulls in) is an optional peer: a CPU-only install lacks it.
  const loaded = await optionalImport('gpu.js');
  if (typeof loaded === 'string') throw new BackendUnavailable(`the npm package gpu.js is ${loaded}; GPU and webasm backends need \`npm install gpu.js webgpu@^0.6.2\` beside fpsolve (docs/gpu.md)`);
  const gpujs = loaded as { GPU?: unknown; default?: { GPU: unknown } };
  const GPU = (gpujs.GPU ?? gpujs.default?.GPU) as new (s: { mode: string }) => unknown;
  return GpuJsBackend.create(GPU, op, mode, device ? { device } : {});
}

/** The backend that will run. */
export interface ResolvedBackend {
  backend: Backend;
  info: BackendInfo;
  /** Why this backend: the choice and what auto saw. */
  reason: string;
}

export interface ResolveOptions {
  /** The scenario's time.integrator: auto needs a recorded win for this one (gpu-record.ts). */
  integrator: string;
  /** The recorded GPU benchmark auto reads (default: $FPSOLVE_GPU_BENCHMARK, else bench/results-gpu.json). */
  benchmark?: string;
  /**
   * Replaces probeGpu and the device-node check before it (tests: a probe that names a device
   * without one being there).
   */
  probe?: () => Promise<GpuProbe>;
}

const NO_NODE = 'no GPU device node (/dev/nvidia<N>, /dev/dri/renderD<N>)';

/** What auto decided, before any GPU backend is built. */
export type AutoDecision = { gpu: false; reason: string } | { gpu: true; probe: GpuProbe; reason: string };

/**
 * `--backend auto`: the GPU only where the recorded benchmark shows it winning for this kind of run
 * on the GPU found now (gpu-record.ts); otherwise float64 on the CPU, with the reason. Probes only
 * when the record would pick a GPU and a device node exists, so CPU-only machines load nothing.
 */
export async function decideAuto(op: { grid: { size: number; dim: number } }, opts: ResolveOptions): Promise<AutoDecision> {
  const size = op.grid.size;
  const dim = op.grid.dim;
  const cpu = (reason: string): AutoDecision => ({ gpu: false, reason: `auto: ${reason}, so float64 on the CPU` });
  if (size < AUTO_GPU_MIN_CELLS) return cpu(`${size} cells is below ${AUTO_GPU_MIN_CELLS} (512², the smallest grid the device check measures)`);
  const mayProbe = opts.probe !== undefined || autoMayProbeGpu();
  const verdict = recordVerdict(gpuRecordPath(opts.benchmark), dim, size, opts.integrator);
  if (!verdict.win) return cpu(`${verdict.why}${mayProbe ? '' : `; and ${NO_NODE}`}`);
  if (!mayProbe) return cpu(`${verdict.why}, but there is ${NO_NODE} here (not probed)`);
  const probe = await (opts.probe ?? probeGpu)();
  if (!probe.mode) return cpu(`${verdict.why}, but no hardware GPU is usable here (${probe.missing.join('; ')})`);
  if (probe.software) return cpu(`${verdict.why}, but the GPU found here, ${probe.device}, is a software renderer`);
  if (!sameDevice(probe.device, verdict.win.device)) return cpu(`${verdict.why}, but the GPU found here is ${probe.device}, not the one recorded`);
  return { gpu: true, probe, reason: `auto: ${verdict.why}, and this is that GPU` };
}

/**
 * Resolves `--backend`. auto = decideAuto; gpu = a hardware GPU or BackendUnavailable naming what
 * is missing.
 */
export async function resolveBackend(choice: BackendChoice, op: FvOperator, opts: ResolveOptions): Promise<ResolvedBackend> {
  const cpu = (reason: string): ResolvedBackend => {
    const backend = new CpuBackend(op);
    return { backend, info: backend.info, reason };
  };
  if (choice === 'cpu') return cpu('--backend cpu: float64 on the CPU');
  if (choice === 'webasm') {
    const b = await gpuJsBackend(op, 'webasm');
    return { backend: b, info: b.info, reason: `--backend webasm: gpu.js WebAssembly kernels (float32, the GPU kernels' numerics on the CPU; kernels ran as ${b.info.executor})` };
  }
  let probe: GpuProbe;
  let why: string;
  if (choice === 'auto') {
    const d = await decideAuto(op, opts);
    if (!d.gpu) return cpu(d.reason);
    probe = d.probe;
    why = d.reason;
  } else {
    probe = await (opts.probe ?? probeGpu)();
    if (!probe.mode) throw new BackendUnavailable(`no GPU backend is usable: ${probe.missing.join('; ')}`);
    why = '--backend gpu';
  }
  const b = await gpuJsBackend(op, probe.mode!, probe.device);
  return { backend: b, info: b.info, reason: `${why}: ${probe.device}${probe.software ? ' (software renderer, CI_SOFT_GPU)' : ''}; kernels ran as ${b.info.executor}` };
}
