// `npm run sink -- [flags]`: bundles sink/server.ts and the repository's modules it
// imports into one ES module with esbuild (in memory, ~0.2 s), writes it to a
// temporary file and runs it in this process, on plain Node.
//
// Why not `node --import tsx sink/server.ts`: tsx's loader runs in a thread of its own
// and keeps its own heap, ~30 MB of resident memory for the whole life of the sink,
// which grades from memory and is expected to stay small. The bundle is the same code:
// esbuild only strips the types, as tsx does.
//
// Packages stay outside the bundle and are imported by absolute path (resolved from
// this directory), so the bundle runs from any directory, even when the checkout is
// read-only (the Docker image). `import.meta.url` keeps meaning each source file's own
// URL (the status page finds its files next to it). Plain JavaScript on purpose: it
// must run without a TypeScript loader.
import { build } from 'esbuild';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const entry = fileURLToPath(new URL('./server.ts', import.meta.url));

/** Bare package imports -> external, by absolute URL. */
const externalPackages = {
  name: 'external-packages-by-url',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('node:')) return { path: args.path, external: true };
      return { path: import.meta.resolve(args.path), external: true };
    });
  },
};

/** `import.meta.url` in a bundled source file -> that file's own URL. */
const ownMetaUrl = {
  name: 'own-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, (args) => ({
      contents: readFileSync(args.path, 'utf8').replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)),
      loader: 'ts',
    }));
  },
};

const result = await build({
  entryPoints: [entry],
  bundle: true,
  write: false,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  legalComments: 'none',
  plugins: [externalPackages, ownMetaUrl],
});

const dir = mkdtempSync(join(tmpdir(), 'promo-sink-'));
const removeDir = () => rmSync(dir, { recursive: true, force: true });
process.once('exit', removeDir); // the sink may exit before the import settles (a bad flag)
writeFileSync(join(dir, 'sink.mjs'), result.outputFiles[0].contents);
// Loaded modules keep their source in memory: the file is not needed once imported.
try {
  await import(pathToFileURL(join(dir, 'sink.mjs')).href);
} finally {
  removeDir();
}
