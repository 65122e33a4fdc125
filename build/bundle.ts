// Bundles TypeScript scenarios into single-file k6 scripts.
import { build, type BuildOptions } from 'esbuild';
import { readdirSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const SCENARIO_DIR = join(ROOT, 'scripts-src');
export const DIST_DIR = join(ROOT, 'dist');

const K6_OPTIONS: BuildOptions = {
  bundle: true, // k6 loads one file: lib/ and everything else is inlined
  format: 'esm', // k6 runs ES modules natively
  platform: 'neutral', // neither Node nor a browser: no Node built-ins, no DOM shims
  target: 'es2020', // what k6's JS runtime (Sobek) supports without surprises
  external: ['k6', 'k6/*'], // k6 provides its own modules at run time
  sourcemap: 'external', // stack traces map back to the .ts, and the bundle stays small
  minify: false, // readable bundles; k6 error messages point at real code
  legalComments: 'none', // nothing to carry into a test script
  logLevel: 'silent', // errors come back as values and are reported by the caller
};

export function scenarioNames(): string[] {
  return readdirSync(SCENARIO_DIR)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => basename(f, '.ts'))
    .sort();
}

/** Bundles one .ts file into `<outDir>/<name>.js` and returns that path. */
export async function bundleFile(entry: string, outDir: string = DIST_DIR): Promise<string> {
  const outfile = join(outDir, `${basename(entry, extname(entry))}.js`);
  await build({ ...K6_OPTIONS, entryPoints: [entry], outfile });
  return outfile;
}

export async function bundleScenarios(outDir: string = DIST_DIR): Promise<string[]> {
  return Promise.all(scenarioNames().map((name) => bundleFile(join(SCENARIO_DIR, `${name}.ts`), outDir)));
}
