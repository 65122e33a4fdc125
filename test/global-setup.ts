// Runs once before the suite: finds or builds k6, bundles the scenarios and builds the
// sink's native decoder, so tests use the real binary, bundles and module (and the
// sinks they start do not all compile the decoder at once).
import type { TestProject } from 'vitest/node';
import { resolveK6 } from '../build/k6-binary.ts';
import { bundleScenarios } from '../build/bundle.ts';
import { integrationSkipped } from './helpers/integration.ts';
import { ensureDebianPackages } from './helpers/debian.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    k6Bin: string;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  await bundleScenarios();
  if (!integrationSkipped()) ensureDebianPackages((line) => process.stderr.write(`[setup] ${line}\n`));
  if (integrationSkipped()) {
    project.provide('k6Bin', '');
    return;
  }
  project.provide('k6Bin', await resolveK6((line) => process.stderr.write(`[k6 setup] ${line}\n`)));
}
