// `npm run build`: everything that runs, into dist/, once. The sink, the CLI, the demo
// shop and the Docker image run these files on plain Node with production
// dependencies only; nothing is bundled, compiled or type-stripped when they start.
//
//   dist/scenarios/<name>.js       the k6 scenarios (build/bundle.ts)
//   dist/lib/index.js              lib/ for k6, for users' scenarios where the sources are absent
//   dist/sink/server.js            the sink (sink/server.ts)
//   dist/sink/decode-worker.js     its decode worker thread (sink/decode-thread.ts)
//   dist/sink/codec.wasm           the decoder's WebAssembly part (sink/codec/wasm/codec.as.ts)
//   dist/sink/status-page/         the status page: page.js (browser), page.html, page.css
//   dist/report/                   the report's script (report-page.js, with uPlot) and report.css, inlined into each report.html
//   dist/cli/cli.js                the CLI (npm run k6)
//   dist/demo/server.js            the demo shop (npm run demo)
//   dist/.built                    written last: ensure-built.mjs compares sources with it
import { build, type BuildOptions } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import asc from 'assemblyscript/asc';
import { bundleFile, bundleScenarios, DIST_DIR, ROOT } from './bundle.ts';

const NODE_OPTIONS: BuildOptions = {
  bundle: true, // one file per program: its imports from the repository are inlined
  platform: 'node', // Node built-ins stay imports
  format: 'esm', // package.json says "type": "module"
  target: 'node20', // the Node the project runs on (engines)
  packages: 'external', // npm packages are imported from node_modules at run time, as installed
  sourcemap: 'linked', // stack traces map back to the .ts with node --enable-source-maps
  legalComments: 'none', // nothing of the sources' comments is needed at run time
  logLevel: 'warning', // a warning fails nothing but is shown
};

const PAGE_OPTIONS: BuildOptions = {
  bundle: true, // the page's script and what it imports (report/compare.ts) in one file
  platform: 'browser', // it runs in the browser
  format: 'iife', // a classic script: the strict CSP allows only 'self' scripts, no modules needed
  target: 'es2020', // browsers of the last few years
  minify: true, // served to every viewer of the page
  sourcemap: false, // the page is small and readable enough in its source
  legalComments: 'none', // see above
  logLevel: 'warning', // see above
};

/** AssemblyScript to WebAssembly; fails the build with the compiler's own words. */
async function compileWasm(entry: string, outFile: string): Promise<void> {
  const output: string[] = [];
  const stream = { write: (chunk: string | Uint8Array) => (output.push(String(chunk)), true) };
  const { error } = await asc.main(
    [
      entry,
      '--outFile', outFile,
      '-O3', // speed first: these are the decoder's hottest loops
      '--runtime', 'stub', // no garbage collector: the module only reads and writes its own memory
      '--noAssert', // the code checks its bounds itself and returns -1; asserts would trap
    ],
    { stdout: stream, stderr: stream },
  );
  if (error) throw new Error(`AssemblyScript could not compile ${entry}: ${error.message}\n${output.join('')}`);
}

export async function buildAll(): Promise<string[]> {
  rmSync(join(DIST_DIR, '.built'), { force: true });
  const programs: Array<[string, string]> = [
    ['sink/server.ts', 'sink/server.js'],
    ['sink/decode-thread.ts', 'sink/decode-worker.js'],
    ['cli/cli.ts', 'cli/cli.js'],
    ['demo/server.ts', 'demo/server.js'],
  ];
  const pageDir = join(DIST_DIR, 'sink', 'status-page');
  const reportDir = join(DIST_DIR, 'report');
  const [scenarios, lib] = await Promise.all([
    bundleScenarios(),
    bundleFile(join(ROOT, 'lib', 'index.ts'), join(DIST_DIR, 'lib')),
    ...programs.map(([entry, out]) => build({ ...NODE_OPTIONS, entryPoints: [join(ROOT, entry)], outfile: join(DIST_DIR, out) })),
    build({ ...PAGE_OPTIONS, entryPoints: [join(ROOT, 'sink/control/status-page/page.ts')], outfile: join(pageDir, 'page.js') }),
    build({ ...PAGE_OPTIONS, entryPoints: [join(ROOT, 'report/report-page.ts')], outfile: join(reportDir, 'report-page.js') }),
    compileWasm(join(ROOT, 'sink/codec/wasm/codec.as.ts'), join(DIST_DIR, 'sink', 'codec.wasm')),
  ]);
  mkdirSync(pageDir, { recursive: true });
  copyFileSync(join(ROOT, 'sink/control/status-page', 'page.html'), join(pageDir, 'page.html'));
  // The charts' stylesheet (uPlot's) goes first in the page's own: one file, from 'self'.
  const chartCss = readFileSync(join(ROOT, 'node_modules/uplot/dist/uPlot.min.css'), 'utf8');
  writeFileSync(join(pageDir, 'page.css'), `${chartCss}\n${readFileSync(join(ROOT, 'sink/control/status-page', 'page.css'), 'utf8')}`);
  mkdirSync(reportDir, { recursive: true });
  writeFileSync(join(reportDir, 'report.css'), `${chartCss}\n${readFileSync(join(ROOT, 'report', 'report.css'), 'utf8')}`);
  writeFileSync(join(DIST_DIR, '.built'), `${new Date().toISOString()}\n`);
  return [...scenarios, lib, ...programs.map(([, out]) => join(DIST_DIR, out)), join(pageDir, 'page.js'), join(reportDir, 'report-page.js'), join(DIST_DIR, 'sink', 'codec.wasm')];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const started = Date.now();
  const files = await buildAll();
  console.log(`built ${files.length} files into ${DIST_DIR} in ${Date.now() - started} ms`);
}
