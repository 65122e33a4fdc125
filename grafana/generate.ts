// `npm run dashboards`: writes grafana/dashboards/*.json from the TypeScript in grafana/.
// Keys are sorted and files end with a newline, so a regeneration diffs only real changes;
// test/stack/dashboards.test.ts fails when the committed files are out of date.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DASHBOARDS } from './dashboards.ts';

export const DASHBOARD_DIR = fileURLToPath(new URL('./dashboards/', import.meta.url));

/** JSON with every object's keys sorted (arrays keep their order), two-space indent, final newline. */
export function stableJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .filter((k) => typeof (v as Record<string, unknown>)[k] !== 'function' && (v as Record<string, unknown>)[k] !== undefined)
          .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return JSON.stringify(sort(value), null, 2) + '\n';
}

/** File name → file content, for every dashboard. */
export function renderDashboards(): Map<string, string> {
  return new Map(DASHBOARDS.map((d) => [d.file, stableJson(d.build())]));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  mkdirSync(DASHBOARD_DIR, { recursive: true });
  for (const [file, content] of renderDashboards()) {
    writeFileSync(join(DASHBOARD_DIR, file), content);
    process.stdout.write(`wrote grafana/dashboards/${file}\n`);
  }
}
