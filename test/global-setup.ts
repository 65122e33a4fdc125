// Runs once before the suite: finds or builds k6 and bundles the scenarios, so
// integration tests use the real binary and the real bundles.
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
  if (integrationSkipped()) {
    project.provide('k6Bin', '');
    return;
  }
  ensureDebianPackages((line) => process.stderr.write(`[setup] ${line}\n`));
  project.provide('k6Bin', await resolveK6((line) => process.stderr.write(`[k6 setup] ${line}\n`)));
}
