// Reference data beside the repository (../shared/), read in place, never copied in.
// A bare clone has none: the tests that need it are skipped and say so in one line;
// under CI (CI=true) its absence is a failure.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ROOT } from '../../build/bundle.ts';

/** The k6-operator TestRun CRD (grafana/k6-operator config/crd/bases). */
export const CRD_PATH = resolve(ROOT, '../shared/k8s/k6.io_testruns.crd.yaml');

export function underCi(): boolean {
  return process.env.CI === 'true';
}

/** True when the TestRun schema tests are skipped: no CRD beside the repository, outside CI. */
export function crdSkipped(): boolean {
  return !existsSync(CRD_PATH) && !underCi();
}

export const CRD_SKIPPED_LINE = `Skipping the TestRun schema tests: ${CRD_PATH} is absent (reference data beside the repository, in ../shared/k8s/; CI must have it).`;
