// Runs once before the suite: builds dist/ (npm run build), installs the Debian packages
// the integration tests start, finds or builds k6, and installs the real shop engine
// (django-oscar from PyPI, in .tools/oscar), so tests use the real parts and what the
// build ships.
import type { TestProject } from 'vitest/node';
import { resolveK6 } from '../cli/k6-binary.ts';
import { buildAll } from '../build/build.ts';
import { integrationSkipped } from './helpers/integration.ts';
import { ensureDebianPackages } from './helpers/debian.ts';
import { ensureOscar } from './helpers/oscar.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    k6Bin: string;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  // The shop engine installs (pip, then its migrations) while the build runs and k6 is
  // found or built, so on a fresh machine its minute overlaps theirs.
  const oscar = integrationSkipped() ? null : ensureOscar((line) => process.stderr.write(`[oscar setup] ${line}\n`));
  oscar?.catch(() => {}); // awaited below; a failing build must not leave it unhandled
  // Tests run what ships: the sink's decode worker and status page, the CLI and the
  // scenarios as `npm run build` makes them.
  await buildAll();
  if (!integrationSkipped()) ensureDebianPackages((line) => process.stderr.write(`[setup] ${line}\n`));
  if (integrationSkipped()) {
    project.provide('k6Bin', '');
    return;
  }
  project.provide('k6Bin', await resolveK6((line) => process.stderr.write(`[k6 setup] ${line}\n`)));
  await oscar;
}
