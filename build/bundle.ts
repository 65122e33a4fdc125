// The scenarios of scripts-src/ and where `npm run build` bundles them (dist/scenarios/,
// as contract/dist-layout.ts says).
import { readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleFile } from './k6-bundle.ts';

export { bundleFile };
export const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const SCENARIO_DIR = join(ROOT, 'scripts-src');
export const DIST_DIR = join(ROOT, 'dist');
export const SCENARIO_BUNDLE_DIR = join(DIST_DIR, 'scenarios');

export function scenarioNames(): string[] {
  return readdirSync(SCENARIO_DIR)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => basename(f, '.ts'))
    .sort();
}

export async function bundleScenarios(outDir: string = SCENARIO_BUNDLE_DIR): Promise<string[]> {
  return Promise.all(scenarioNames().map((name) => bundleFile(join(SCENARIO_DIR, `${name}.ts`), outDir)));
}
