import { cpus } from 'node:os';
import type { FvOperator } from '../operator.js';
import type { Backend, BackendInfo, Field, Rkl2StageCoefficients } from './types.js';
import { kernelSources, type KernelSources } from './kernels.js';
import { DeviceMultigrid, deviceMultigridApplies, type DeviceMultigridOptions } from './gpu-multigrid.js';

/** gpu.js modes this backend drives. */
export type GpuJsMode = 'webasm' | 'webgpu' | 'headlessgl' | 'cpu';

/** The kernel class each mode must run; anything else is a silent gpu.js fallback and an error. */
export const EXPECTED_KERNEL: Record<GpuJsMode, string> = {
  webasm: 'WebAssemblyKernel',
  webgpu: 'WebGPUKernel',
  headlessgl: 'HeadlessGLKernel',
  cpu: 'CPUKernel',
};

/**
 * What a gpu.js kernel returns: a Float32Array on webasm/cpu, a device handle (GL texture,
 * WebGPU buffer result) with toArray()/delete() on the GPU modes.
 */
interface DeviceHandle {
  toArray(): Float32Array | Promise<Float32Array>;
  delete?(): void;
}
type KernelValue = Float32Array | DeviceHandle;
type KernelArg = KernelValue | number;

/** The slice of gpu.js's kernel shortcut we use (its typings are loose about async modes). */
interface GpuKernel {
  (...args: KernelArg[]): KernelValue | Promise<KernelValue>;
  kernel?: { constructor: { name: string } };
  destroy?(removeCanvasReference?: boolean): void;
}
interface GpuInstance {
  createKernel(source: string, settings: Record<string, unknown>): GpuKernel;
  destroy(): Promise<void> | void;
}

const OWNER = Symbol('gpujs');

interface GpuField extends Field {
  value: KernelValue;
}

export interface GpuJsOptions {
  /** Device description (e.g. the WebGPU adapter) for the report; default derived from the mode. */
  device?: string;
  /**
   * CG's preconditioner: the device multigrid (default on 2-D and 3-D grids larger than its
   * coarsest level; solvers/backend/gpu-multigrid.ts) or Jacobi (always on 1-D grids, and on
   * request for comparison).
   */
  preconditioner?: 'multigrid' | 'jacobi';
  /** The multigrid cycle's settings (tests and benchmarks); defaults DEFAULT_DEVICE_MULTIGRID. */
  multigrid?: Partial<DeviceMultigridOptions>;
}

/** ψ above this makes √π = e^(−ψ/2) leave float32's normal range (e^(−87)): the CG form is refused. */
export const FLOAT32_SYMMETRIC_PSI_MAX = 170;

/**
 * gpu.js backend with device-resident float32 state. Every kernel runs with pipeline:true and
 * immutable:true, so results stay on the device (textures on GL, buffers on WebGPU); a field that
 * receives a new value deletes its old one at once (docs/gpujs.md §1: without delete() memory grows by
 * one field per step). The operator's coefficients are uploaded once, as float32: they are the
 * log-space form (face rates c·B(ψ_j − ψ_i) from differences of ψ, all O(1/h²)); π itself is never
 * formed on the device. Reductions read back one partial sum per row of L cells and finish in
 * float64 on the host.
 */
export class GpuJsBackend implements Backend {
  readonly info: BackendInfo;
  readonly size: number;
  readonly mode: GpuJsMode;
  private readonly gpu: GpuInstance;
  private readonly op: FvOperator;
  private readonly k: Record<keyof KernelSources, GpuKernel>;
  private readonly checked = new Set<GpuKernel>();
  private readonly coef: GpuField;
  private sym: GpuField | undefined;
  private sqrtPi: GpuField | undefined;
  private invSqrtPi: GpuField | undefined;
  private readonly rows: number;
  private disposed = false;
  /** The device multigrid when CG is preconditioned by it, else null (Jacobi). */
  readonly multigrid: DeviceMultigrid<KernelValue, GpuKernel> | null;
  readonly preconditionerName: string;

  private constructor(gpu: GpuInstance, op: FvOperator, mode: GpuJsMode, opts: GpuJsOptions) {
    this.gpu = gpu;
    this.op = op;
    this.mode = mode;
    const g = op.grid;
    this.size = g.size;
    // Rows of ~√size cells: a few hundred f32 additions per partial sum, a few hundred values read back.
    const L = Math.min(1024, Math.max(16, 2 ** Math.round(Math.log2(Math.sqrt(g.size)))));
    this.rows = Math.ceil(g.size / L);
    const constants: Record<string, number> = { size: g.size, K: 2 * g.dim + 1, KS: g.dim + 1, L };
    for (let k = 0; k < g.dim; k++) constants[`s${k}`] = g.strides[k];
    const src = kernelSources(g.dim);
    const base = { pipeline: true, immutable: true, precision: 'single', tactic: 'precision', constants };
    const make = (name: keyof KernelSources, output: number): GpuKernel => gpu.createKernel(src[name], { ...base, output: [output] });
    this.k = {
      upload: make('upload', g.size),
      apply: make('apply', g.size),
      euler: make('euler', g.size),
      rkl2: make('rkl2', g.size),
      lincomb: make('lincomb', g.size),
      shifted: make('shifted', g.size),
      jacobi: make('jacobi', g.size),
      mul: make('mul', g.size),
      rowDot: make('rowDot', this.rows),
      rowSum: make('rowSum', this.rows),
      rowAbsSum: make('rowAbsSum', this.rows),
      rowMin: make('rowMin', this.rows),
      rowMax: make('rowMax', this.rows),
      fill: make('fill', g.size),
    };
    this.coef = { owner: OWNER, value: new Float32Array(0) };
    const wantMg = (opts.preconditioner ?? 'multigrid') === 'multigrid' && deviceMultigridApplies(op, opts.multigrid);
    this.multigrid = wantMg ? new DeviceMultigrid(this.deviceOps(base), op, opts.multigrid) : null;
    this.preconditionerName = this.multigrid ? this.multigrid.name : 'Jacobi';
    this.info = {
      name: `gpu.js ${mode}`,
      executor: 'not run yet',
      device: opts.device ?? (mode === 'webasm' ? `WebAssembly f32 SIMD on CPU (${cpus()[0]?.model ?? 'unknown'})` : mode),
      precision: 'float32',
    };
  }

  /**
   * Builds the backend and uploads the coefficients. `GPU` is gpu.js's class (imported by the
   * caller, so that the CPU path never loads gpu.js). Throws when gpu.js runs another kernel class
   * than the mode asks for.
   */
  static async create(GPU: new (settings: { mode: string }) => unknown, op: FvOperator, mode: GpuJsMode, opts: GpuJsOptions = {}): Promise<GpuJsBackend> {
    const gpu = new GPU({ mode }) as GpuInstance;
    const b = new GpuJsBackend(gpu, op, mode, opts);
    const g = op.grid;
    const K = 2 * g.dim + 1;
    const packed = new Float32Array(g.size * K);
    for (let i = 0; i < g.size; i++) {
      for (let k = 0; k < g.dim; k++) {
        packed[i * K + 2 * k] = op.fwd[k][i];
        packed[i * K + 2 * k + 1] = op.bwd[k][i];
      }
      packed[i * K + 2 * g.dim] = op.outflow[i];
    }
    // The packed array has K·size entries: a one-off upload kernel of that length.
    b.coef.value = await b.uploadRaw(packed);
    // Compile and check the stencil now, so a fallback fails here and info says what ran.
    const probe = await b.run(b.k.apply, await b.device(b.field()), b.coef.value);
    if (!(probe instanceof Float32Array)) probe.delete?.();
    return b;
  }

  private async uploadRaw(data: Float32Array): Promise<KernelValue> {
    if (data.length === this.size) return this.run(this.k.upload, data);
    const up = this.gpu.createKernel('function (a) { return a[this.thread.x]; }', { pipeline: true, immutable: true, precision: 'single', tactic: 'precision', output: [data.length] });
    const v = await this.run(up, data);
    return v;
  }

  private async run(kernel: GpuKernel, ...args: KernelArg[]): Promise<KernelValue> {
    if (this.disposed) throw new Error('gpu.js backend used after dispose()');
    const v = await kernel(...args);
    if (!this.checked.has(kernel)) {
      const ran = kernel.kernel?.constructor.name ?? 'unknown';
      this.info.executor = ran;
      if (ran !== EXPECTED_KERNEL[this.mode]) {
        throw new Error(`gpu.js ran ${ran} instead of ${EXPECTED_KERNEL[this.mode]} (mode '${this.mode}' fell back silently)`);
      }
      this.checked.add(kernel);
    }
    return v;
  }

  private f(x: Field): GpuField {
    if (x.owner !== OWNER) throw new Error('field belongs to another backend');
    return x as GpuField;
  }

  /** Replaces a field's value, freeing the old device buffer (the leak docs/gpujs.md §1 measured). */
  private put(x: Field, v: KernelValue): void {
    const f = this.f(x);
    const old = f.value;
    f.value = v;
    if (old !== v && !(old instanceof Float32Array)) old.delete?.();
  }

  private static async read(v: KernelValue): Promise<Float32Array> {
    return v instanceof Float32Array ? v : await v.toArray();
  }

  field(): Field {
    const f: GpuField = { owner: OWNER, value: new Float32Array(this.size) };
    return f;
  }
  async upload(x: Field, data: Float64Array): Promise<void> {
    this.put(x, await this.run(this.k.upload, Float32Array.from(data)));
  }
  async download(x: Field, out: Float64Array): Promise<void> {
    const a = await GpuJsBackend.read(await this.device(x));
    for (let i = 0; i < out.length; i++) out[i] = a[i];
  }
  /** The field's device value; a never-written field is uploaded (zeros) first so kernels see one argument type. */
  private async device(x: Field): Promise<KernelValue> {
    const f = this.f(x);
    if (f.value instanceof Float32Array && this.mode !== 'webasm' && this.mode !== 'cpu') this.put(f, await this.run(this.k.upload, f.value));
    return f.value;
  }
  async copy(src: Field, dst: Field): Promise<void> {
    const s = await this.device(src);
    this.put(dst, await this.run(this.k.lincomb, 1, s, 0, s));
  }
  async apply(x: Field, out: Field): Promise<void> {
    this.put(out, await this.run(this.k.apply, await this.device(x), this.coef.value));
  }
  async eulerStep(dt: number, x: Field, out: Field): Promise<void> {
    this.put(out, await this.run(this.k.euler, await this.device(x), this.coef.value, dt));
  }
  async rkl2Stage(c: Rkl2StageCoefficients, y1: Field, y2: Field, y0: Field, l0: Field, out: Field): Promise<void> {
    const args = [await this.device(y1), await this.device(y2), await this.device(y0), await this.device(l0)];
    this.put(out, await this.run(this.k.rkl2, ...args, this.coef.value, c.mu, c.nu, 1 - c.mu - c.nu, c.a, c.g));
  }
  async lincomb(a: number, x: Field, b: number, y: Field, out: Field): Promise<void> {
    this.put(out, await this.run(this.k.lincomb, a, await this.device(x), b, await this.device(y)));
  }
  async scale(a: number, x: Field): Promise<void> {
    const v = await this.device(x);
    this.put(x, await this.run(this.k.lincomb, a, v, 0, v));
  }
  async zero(x: Field): Promise<void> {
    this.put(x, await this.run(this.k.fill, 0));
  }
  async cgUpdate(alpha: number, p: Field, q: Field, y: Field, r: Field): Promise<number> {
    await this.lincomb(1, y, alpha, p, y);
    await this.lincomb(1, r, -alpha, q, r);
    return this.dot(r, r);
  }

  /** Symmetric-form data, uploaded on first use (only CG needs it). */
  private async symmetric(): Promise<{ sym: KernelValue; s: KernelValue; inv: KernelValue }> {
    if (!this.sym || !this.sqrtPi || !this.invSqrtPi) {
      const op = this.op;
      let psiMax = 0;
      for (const p of op.problem.psi) if (p > psiMax) psiMax = p;
      if (psiMax > FLOAT32_SYMMETRIC_PSI_MAX) {
        throw new Error(`ψ = −ln π spans ${psiMax.toPrecision(4)} on this grid, beyond float32's range for √π = e^(−ψ/2) (max ${FLOAT32_SYMMETRIC_PSI_MAX}): use integrator rkl2 or explicit on gpu.js, or --backend cpu`);
      }
      const g = op.grid;
      const KS = g.dim + 1;
      const packed = new Float32Array(g.size * KS);
      const inv = new Float32Array(g.size);
      for (let i = 0; i < g.size; i++) {
        for (let k = 0; k < g.dim; k++) packed[i * KS + k] = op.sym[k][i];
        packed[i * KS + g.dim] = op.outflow[i];
        inv[i] = 1 / op.sqrtPi[i];
      }
      this.sym = { owner: OWNER, value: await this.uploadRaw(packed) };
      this.sqrtPi = { owner: OWNER, value: await this.run(this.k.upload, Float32Array.from(op.sqrtPi)) };
      this.invSqrtPi = { owner: OWNER, value: await this.run(this.k.upload, inv) };
    }
    return { sym: this.sym.value, s: this.sqrtPi.value, inv: this.invSqrtPi.value };
  }

  async shifted(theta: number, v: Field, out: Field): Promise<void> {
    const { sym } = await this.symmetric();
    this.put(out, await this.run(this.k.shifted, await this.device(v), sym, theta));
  }
  /** One device multigrid cycle (gpu-multigrid.ts), or Jacobi 1/(1 + θ(−S_ii)). */
  async precondition(theta: number, r: Field, out: Field): Promise<void> {
    // Also refuses a ψ range float32 cannot hold, for both preconditioners.
    const { sym } = await this.symmetric();
    if (this.multigrid) this.put(out, await this.multigrid.apply(theta, await this.device(r)));
    else this.put(out, await this.run(this.k.jacobi, await this.device(r), sym, theta));
  }

  /** The multigrid's access to gpu.js: this backend's kernel settings, class check and buffer release. */
  private deviceOps(base: Record<string, unknown>): ConstructorParameters<typeof DeviceMultigrid<KernelValue, GpuKernel>>[0] {
    return {
      kernel: (source, output, constants) => this.gpu.createKernel(source, { ...base, constants, output: [output] }),
      run: (k, ...args) => this.run(k, ...args),
      free: (v) => {
        if (!(v instanceof Float32Array)) v.delete?.();
      },
      read: (v) => GpuJsBackend.read(v),
      destroy: (k) => k.destroy?.(),
    };
  }
  async toSymmetric(x: Field, out: Field): Promise<void> {
    const { inv } = await this.symmetric();
    this.put(out, await this.run(this.k.mul, await this.device(x), inv));
  }
  async fromSymmetric(y: Field, out: Field): Promise<void> {
    const { s } = await this.symmetric();
    this.put(out, await this.run(this.k.mul, await this.device(y), s));
  }

  /** Reads back one partial result per row and frees the device copy. */
  private async rowValues(v: KernelValue): Promise<Float32Array> {
    const rows = await GpuJsBackend.read(v);
    if (!(v instanceof Float32Array)) v.delete?.();
    return rows;
  }
  private async finish(v: KernelValue): Promise<number> {
    const rows = await this.rowValues(v);
    let s = 0;
    for (let i = 0; i < this.rows; i++) s += rows[i];
    return s;
  }
  async dot(x: Field, y: Field): Promise<number> {
    return this.finish(await this.run(this.k.rowDot, await this.device(x), await this.device(y)));
  }
  async sum(x: Field): Promise<number> {
    return this.finish(await this.run(this.k.rowSum, await this.device(x)));
  }
  async norm1(x: Field): Promise<number> {
    return this.finish(await this.run(this.k.rowAbsSum, await this.device(x)));
  }
  async min(x: Field): Promise<number> {
    const rows = await this.rowValues(await this.run(this.k.rowMin, await this.device(x)));
    let m = Infinity;
    for (let i = 0; i < this.rows; i++) if (rows[i] < m) m = rows[i];
    return m;
  }
  async max(x: Field): Promise<number> {
    const rows = await this.rowValues(await this.run(this.k.rowMax, await this.device(x)));
    let m = -Infinity;
    for (let i = 0; i < this.rows; i++) if (rows[i] > m) m = rows[i];
    return m;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.multigrid?.dispose();
    for (const f of [this.coef, this.sym, this.sqrtPi, this.invSqrtPi]) {
      if (f && !(f.value instanceof Float32Array)) f.value.delete?.();
    }
    for (const k of Object.values(this.k)) k.destroy?.();
    void this.gpu.destroy();
  }
}
