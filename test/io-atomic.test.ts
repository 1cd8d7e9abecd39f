import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.js';
import { appendLine, readJsonLines, TEMP_SUFFIX, writeFileAtomic } from '../src/io/atomic.js';

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'fpsolve-atomic-'));
  made.push(d);
  return d;
}

function tempFilesIn(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith(TEMP_SUFFIX));
}

const srcDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');
let atomicJsUrl: string | undefined;

/** Child processes cannot import TypeScript, so transpile atomic.ts (and what it imports) into a temp ESM tree. */
function atomicModuleUrl(): string {
  if (atomicJsUrl) return atomicJsUrl;
  // Running as compiled JS (dist/test), the compiled module sits where the source would.
  const compiled = join(srcDir, 'io', 'atomic.js');
  if (!existsSync(join(srcDir, 'io', 'atomic.ts')) && existsSync(compiled)) return (atomicJsUrl = pathToFileURL(compiled).href);
  const out = tempDir();
  writeFileSync(join(out, 'package.json'), '{"type":"module"}\n');
  for (const rel of ['io/atomic.ts', 'errors.ts']) {
    const js = ts.transpileModule(readFileSync(join(srcDir, rel), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    const dest = join(out, rel.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, js);
  }
  atomicJsUrl = pathToFileURL(join(out, 'io', 'atomic.js')).href;
  return atomicJsUrl;
}

/** Runs `node -e script args...`; resolves with the exit code or signal, rejects on spawn failure. */
function runNode(script: string, args: string[], killAfterMs?: number): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let ready = false;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      // Start the kill timer only once the child is actually writing, so the test is not at the mercy of startup time.
      if (killAfterMs !== undefined && !ready && d.toString().includes('ready')) {
        ready = true;
        setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

describe('writeFileAtomic', () => {
  it('creates parent directories, writes strings and bytes, leaves no temp files', () => {
    const root = tempDir();
    const path = join(root, 'a', 'b', 'out.txt');
    writeFileAtomic(path, 'héllo\n');
    expect(readFileSync(path, 'utf8')).toBe('héllo\n');
    writeFileAtomic(path, Uint8Array.of(0, 1, 255));
    expect([...readFileSync(path)]).toEqual([0, 1, 255]);
    // A subarray view must write just its own bytes, not the whole underlying buffer.
    writeFileAtomic(path, new Uint8Array([9, 8, 7, 6]).subarray(1, 3));
    expect([...readFileSync(path)]).toEqual([8, 7]);
    expect(tempFilesIn(root)).toEqual([]);
    expect(readdirSync(dirname(path))).toEqual(['out.txt']);
  });

  it('on failure leaves the target untouched and removes its temp file', () => {
    const root = tempDir();
    // Renaming a file over a non-empty directory fails after the temp file has been fully written.
    const target = join(root, 'target');
    mkdirSync(target);
    writeFileSync(join(target, 'keep'), 'old');
    expect(() => writeFileAtomic(target, 'new')).toThrow(/EISDIR|ENOTEMPTY|EEXIST|EPERM/);
    expect(readFileSync(join(target, 'keep'), 'utf8')).toBe('old');
    expect(tempFilesIn(root)).toEqual([]);
    expect(readdirSync(root)).toEqual(['target']);
  });

  it('fails cleanly when the parent path is a file', () => {
    const root = tempDir();
    writeFileSync(join(root, 'file'), 'x');
    expect(() => writeFileAtomic(join(root, 'file', 'out.txt'), 'x')).toThrow(/ENOTDIR|EEXIST/);
    expect(readdirSync(root)).toEqual(['file']);
  });

  it('a writer killed with SIGKILL never leaves a partial target', async () => {
    const root = tempDir();
    const path = join(root, 'state.bin');
    const size = 4 << 20;
    writeFileSync(path, Buffer.alloc(size, 'A'));
    const script = `
      const [url, path, size] = process.argv.slice(1);
      import(url).then((m) => {
        const a = Buffer.alloc(+size, 'A'), b = Buffer.alloc(+size, 'B');
        console.log('ready');
        for (let i = 0; ; i++) m.writeFileAtomic(path, i % 2 ? a : b);
      });`;
    const r = await runNode(script, [atomicModuleUrl(), path, String(size)], 150);
    expect(r.signal, r.stderr).toBe('SIGKILL');
    const content = readFileSync(path);
    expect(content.length).toBe(size);
    const first = content[0]!;
    expect([0x41, 0x42]).toContain(first);
    expect(content.every((b) => b === first)).toBe(true);
    // Killed mid-write, a temp file may remain (documented); it must never be mistaken for the target.
    for (const f of readdirSync(root)) expect(f === 'state.bin' || (f.startsWith('.state.bin.') && f.endsWith(TEMP_SUFFIX))).toBe(true);
  }, 30_000);
});

describe('appendLine / readJsonLines', () => {
  it('appends complete lines and reads them back', () => {
    const path = join(tempDir(), 'sub', 'log.jsonl');
    appendLine(path, JSON.stringify({ a: 1 }));
    appendLine(path, JSON.stringify('two'));
    appendLine(path, '3');
    expect(readFileSync(path, 'utf8')).toBe('{"a":1}\n"two"\n3\n');
    expect(readJsonLines(path)).toEqual({ records: [{ a: 1 }, 'two', 3], tornTail: false, corruptLines: [] });
  });

  it('refuses a line containing a newline', () => {
    const path = join(tempDir(), 'log.jsonl');
    expect(() => appendLine(path, '{"a":\n1}')).toThrow(RangeError);
  });

  it('concurrent appenders in separate processes never lose or interleave lines', async () => {
    const path = join(tempDir(), 'log.jsonl');
    const writers = 6;
    const perWriter = 200;
    const script = `
      const [url, path, w, n] = process.argv.slice(1);
      import(url).then((m) => {
        for (let i = 0; i < +n; i++) {
          // Varying lengths (up to ~2 KB) so that interleaving, if it happened, would break JSON.
          m.appendLine(path, JSON.stringify({ w: +w, i, pad: 'x'.repeat((i * 997 + +w * 131) % 2000) }));
        }
      });`;
    const url = atomicModuleUrl();
    const results = await Promise.all(Array.from({ length: writers }, (_, w) => runNode(script, [url, path, String(w), String(perWriter)])));
    for (const r of results) expect(r.code, r.stderr).toBe(0);

    const { records, tornTail, corruptLines } = readJsonLines(path);
    expect(tornTail).toBe(false);
    expect(corruptLines).toEqual([]);
    expect(records).toHaveLength(writers * perWriter);
    const seen = new Set<string>();
    const lastIndex = new Map<number, number>();
    for (const rec of records as { w: number; i: number; pad: string }[]) {
      expect(rec.pad).toBe('x'.repeat((rec.i * 997 + rec.w * 131) % 2000));
      seen.add(`${rec.w}:${rec.i}`);
      // Each writer's own lines stay in order.
      expect(rec.i).toBe((lastIndex.get(rec.w) ?? -1) + 1);
      lastIndex.set(rec.w, rec.i);
    }
    expect(seen.size).toBe(writers * perWriter);
    // The torn-tail repair may add blank lines when it races another appender, but never other text.
    const nonBlank = readFileSync(path, 'utf8').split('\n').filter((l) => l !== '');
    expect(nonBlank).toHaveLength(writers * perWriter);
  }, 60_000);

  it('an appender killed with SIGKILL leaves only complete lines', async () => {
    const path = join(tempDir(), 'log.jsonl');
    const script = `
      const [url, path] = process.argv.slice(1);
      import(url).then((m) => {
        console.log('ready');
        for (let i = 0; ; i++) m.appendLine(path, JSON.stringify({ i, pad: 'y'.repeat(i % 3000) }));
      });`;
    const r = await runNode(script, [atomicModuleUrl(), path], 200);
    expect(r.signal, r.stderr).toBe('SIGKILL');
    const { records, corruptLines } = readJsonLines(path);
    expect(corruptLines).toEqual([]);
    expect(records.length).toBeGreaterThan(0);
    (records as { i: number; pad: string }[]).forEach((rec, k) => {
      expect(rec.i).toBe(k);
      expect(rec.pad).toBe('y'.repeat(k % 3000));
    });
  }, 30_000);

  it('ignores and reports a torn last line, and later appends do not glue onto it', () => {
    const path = join(tempDir(), 'log.jsonl');
    writeFileSync(path, '{"a":1}\n{"b":2}\n{"c":');
    expect(readJsonLines(path)).toEqual({ records: [{ a: 1 }, { b: 2 }], tornTail: true, corruptLines: [] });

    // A torn number can still parse; an unterminated last line is dropped regardless.
    writeFileSync(path, '1\n2\n12');
    expect(readJsonLines(path)).toEqual({ records: [1, 2], tornTail: true, corruptLines: [] });

    writeFileSync(path, '{"a":1}\n{"c":');
    appendLine(path, '{"d":4}');
    expect(readFileSync(path, 'utf8')).toBe('{"a":1}\n{"c":\n{"d":4}\n');
    expect(() => readJsonLines(path)).toThrow(InputError);
    expect(() => readJsonLines(path)).toThrow(/line 2 is not valid JSON/);
    expect(() => readJsonLines(path)).toThrow(path);
    expect(readJsonLines(path, { skipCorrupt: true })).toEqual({ records: [{ a: 1 }, { d: 4 }], tornTail: false, corruptLines: [2] });
  });

  it('skips blank lines and CRLF endings, and reports a missing file as InputError', () => {
    const dir = tempDir();
    const path = join(dir, 'log.jsonl');
    writeFileSync(path, '{"a":1}\r\n\n  \n[2]\n');
    expect(readJsonLines(path)).toEqual({ records: [{ a: 1 }, [2]], tornTail: false, corruptLines: [] });
    writeFileSync(path, '');
    expect(readJsonLines(path)).toEqual({ records: [], tornTail: false, corruptLines: [] });
    expect(() => readJsonLines(join(dir, 'missing.jsonl'))).toThrow(InputError);
  });
});
