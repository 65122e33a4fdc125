// Where `npm run build` puts what the CLI and the sink start of each other: the CLI
// starts its embedded sink from dist/sink/, the sink starts runs with dist/cli/, and
// both run the scenario bundles of dist/scenarios/. Works from the sources (tests)
// and from inside a bundle alike: the project root is the nearest directory above
// this code that holds the project's package.json.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'promo-load-analyzer';

function isProjectRoot(dir: string): boolean {
  const pkg = join(dir, 'package.json');
  return existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === PACKAGE_NAME;
}

let root: string | null = null;

/** The directory of the project's package.json (a checkout, or an install of dist/ alone). */
export function projectRoot(): string {
  if (root !== null) return root;
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (isProjectRoot(dir)) return (root = dir);
    if (dirname(dir) === dir) throw new Error(`no package.json of ${PACKAGE_NAME} above ${fileURLToPath(import.meta.url)}`);
  }
}

export const distDir = (): string => join(projectRoot(), 'dist');
/** The sink's server, its decode worker and its status page. */
export const sinkDistDir = (): string => join(distDir(), 'sink');
export const sinkServer = (): string => join(sinkDistDir(), 'server.js');
/** The report's script and stylesheet, inlined into each report.html. */
export const reportDistDir = (): string => join(distDir(), 'report');
export const cliMain = (): string => join(distDir(), 'cli', 'cli.js');
export const scenarioDistDir = (): string => join(distDir(), 'scenarios');
/** lib/ bundled for k6 (ESM, k6 external): what a user's scenario imports where the sources are not installed. */
export const libBundle = (): string => join(distDir(), 'lib', 'index.js');
/** The scenarios `npm run build` bundled (none when dist/ is not built). */
export function builtScenarioNames(): string[] {
  const dir = scenarioDistDir();
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.js')).map((f) => f.slice(0, -3)).sort() : [];
}
/** Node flags the sink runs with: a small young generation keeps its memory small (docs/sink.md). */
export const SINK_NODE_FLAGS = ['--max-semi-space-size=2'];
