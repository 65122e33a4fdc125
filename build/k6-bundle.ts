// esbuild options that turn a TypeScript (or JavaScript) scenario into one k6 script.
// The build uses them for scripts-src/; the CLI for a user's own scenario file, which
// may import promo-load-analyzer/lib.
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { existsSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { libBundle, projectRoot } from '../contract/dist-layout.ts';

export const K6_OPTIONS: BuildOptions = {
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

/**
 * `promo-load-analyzer/lib` from anywhere: a scenario written outside the project (a
 * discovered one, `--out /tmp/shop.ts`) imports the toolkit by name too. The sources when
 * they are there; in an install of dist/ alone, the toolkit as the build bundled it.
 */
const LIB_BY_NAME: Plugin = {
  name: 'promo-load-analyzer-lib',
  setup(b) {
    b.onResolve({ filter: /^promo-load-analyzer\/lib(\/[\w-]+)?$/ }, (args) => {
      const sub = args.path.slice('promo-load-analyzer/lib'.length).replace(/^\//, '') || 'index';
      const source = join(projectRoot(), 'lib', `${sub}.ts`);
      return { path: existsSync(source) ? source : libBundle() };
    });
  },
};

/** Bundles one .ts or .js file into `<outDir>/<name>.js` and returns that path. */
export async function bundleFile(entry: string, outDir: string): Promise<string> {
  const outfile = join(outDir, `${basename(entry, extname(entry))}.js`);
  await build({ ...K6_OPTIONS, entryPoints: [entry], outfile, plugins: [LIB_BY_NAME] });
  return outfile;
}
