// The decode worker's native fast path for remote write 1.0 (rw1-fast.c): what it
// accepts, and why its answers are the JavaScript decoder's, is said there. This file
// compiles it with the machine's C compiler against Node's own headers (Node-API, so
// one build serves every Node of the same ABI), caches the result, and loads it.
//
// - Built on first use, in about a second (npm test's setup builds it first), into
//   .tools/native/ (or the temp directory when the checkout is read-only), under a name
//   that hashes the source, the compiler command and Node's ABI: a changed source is
//   rebuilt, never loaded stale. The file is written under a temporary name and renamed,
//   so concurrent sinks never load half a file.
// - Without a C compiler or Node's headers the sink decodes in JavaScript, as before,
//   and says so in one log line (--native-decode on makes that a start-up error).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type NativeDecodeMode = 'auto' | 'on' | 'off';

/** An opaque handle to one worker's table of known label sets. */
export type NativeCache = { readonly __brand: 'rw1-fast cache' };

export interface Rw1Fast {
  createCache(): NativeCache;
  /**
   * Columns in decode-pool's layout with counts = [series, samples, protobuf bytes];
   * or FALLBACK_REMEMBER (decode in JavaScript, then remember()) or FALLBACK.
   */
  decode(cache: NativeCache, body: Uint8Array, maxUncompressedBytes: number, counts: Float64Array): ArrayBuffer | 0 | 1;
  /** After the JavaScript decoder took the last body: its series' handles (by series index). */
  remember(cache: NativeCache, handles: Int32Array, count: number): number;
  /** Handles the JavaScript cache dropped. */
  forget(cache: NativeCache, handles: readonly number[]): void;
  size(cache: NativeCache): number;
}

/** --native-decode on, and the fast path cannot run: the sink does not start. */
export class NativeDecodeUnavailable extends Error {
  constructor(why: string) {
    super(`--native-decode on, but ${why}.`);
  }
}

export const FALLBACK = 0;
export const FALLBACK_REMEMBER = 1;

const SOURCE = fileURLToPath(new URL('./rw1-fast.c', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
// -O2: the fast path is all loops; hidden visibility: the module exports only its init.
const CFLAGS = ['-O2', '-shared', '-fPIC', '-fvisibility=hidden', '-std=c11', '-Wall'];

/** Node's own Node-API headers: <prefix>/include/node next to <prefix>/bin/node. */
function nodeIncludeDir(): string {
  return join(dirname(process.execPath), '..', 'include', 'node');
}

/** A compiler error: another output directory would not help. */
class CompileError extends Error {}

function compile(cc: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cc, args, { timeout: 120_000 }, (err, _stdout, stderr) => {
      if (!err) resolve();
      else if ((err as NodeJS.ErrnoException).code === 'ENOENT') reject(new CompileError(`there is no C compiler "${cc}" (install gcc, or set CC)`));
      else reject(new CompileError(`${cc} failed: ${(stderr || err.message).trim().split('\n').slice(0, 3).join(' ')}`));
    });
  });
}

let building: Promise<string> | null = null;

/**
 * The path of the compiled module, compiling it when no current build exists.
 * Rejects with one sentence when it cannot be built.
 */
export function buildNativeDecoder(): Promise<string> {
  building ??= (async () => {
    const include = nodeIncludeDir();
    if (!existsSync(join(include, 'node_api.h'))) {
      throw new Error(`Node's headers are not in ${include} (node_api.h is missing), so the native decoder cannot be built`);
    }
    const cc = process.env.CC || 'cc';
    const source = readFileSync(SOURCE);
    const key = createHash('sha256')
      .update(source)
      .update(JSON.stringify([cc, CFLAGS, process.versions.modules, process.versions.napi, process.arch, process.platform]))
      .digest('hex')
      .slice(0, 16);
    const candidates = [join(ROOT, '.tools', 'native'), join(tmpdir(), 'promo-sink-native')];
    for (const dir of candidates) {
      const target = join(dir, `rw1-fast-${key}.node`);
      if (existsSync(target)) return target;
    }
    let lastError: Error | null = null;
    for (const dir of candidates) {
      const target = join(dir, `rw1-fast-${key}.node`);
      const partial = `${target}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
      try {
        mkdirSync(dir, { recursive: true });
        await compile(cc, [...CFLAGS, `-I${include}`, '-o', partial, SOURCE]);
        renameSync(partial, target);
        // Builds of older sources are never loaded again (a sink that has one open keeps its mapping).
        for (const old of readdirSync(dir)) if (/^rw1-fast-[0-9a-f]{16}\.node$/.test(old) && join(dir, old) !== target) rmSync(join(dir, old), { force: true });
        return target;
      } catch (err) {
        rmSync(partial, { force: true });
        lastError = err as Error;
        if (err instanceof CompileError) break;
      }
    }
    throw new Error(`the native decoder could not be built: ${lastError?.message}`);
  })().catch((err: unknown) => {
    building = null; // the next caller tries again
    throw err;
  });
  return building;
}

/** Loads a module built by buildNativeDecoder (in any thread: Node-API modules are context-aware). */
export function loadNativeDecoder(path: string): Rw1Fast {
  const module = { exports: {} as Rw1Fast };
  process.dlopen(module, path);
  return module.exports;
}
