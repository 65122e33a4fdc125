// Run by `npm run sink`, `npm run k6` and `npm run demo` before what they start:
// rebuilds dist/ when a source is newer than the last build (dist/.built), so a
// checkout always runs what its sources say. Plain JavaScript: it must run before
// anything is built, and without the dev dependencies. Where the sources are absent
// (an install of dist/ alone, the Docker image) there is nothing to compare.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const SOURCES = ['build', 'cli', 'contract', 'demo', 'lib', 'report', 'scripts-src', 'sink'];
const stamp = join(root, 'dist', '.built');

function newest(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let max = 0;
  for (const entry of readdirSync(path)) max = Math.max(max, newest(join(path, entry)));
  return max;
}

const present = SOURCES.filter((dir) => existsSync(join(root, dir)));
const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
if (present.length > 0 && present.some((dir) => newest(join(root, dir)) > built)) {
  if (!existsSync(join(root, 'node_modules', 'esbuild')) || !existsSync(join(root, 'node_modules', 'tsx'))) {
    process.stderr.write(`dist/ is ${built ? 'older than the sources' : 'missing'} and the dev dependencies that build it are not installed: run npm install, then npm run build.\n`);
    process.exit(1);
  }
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'build', 'build.ts')], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (result.status !== 0) process.exit(result.status ?? 1);
} else if (!existsSync(stamp)) {
  process.stderr.write('dist/ is missing: run npm run build in a checkout of the project.\n');
  process.exit(1);
}
