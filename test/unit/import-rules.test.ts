// The import rules (dependency-cruiser) and the unused-code check (knip) that npm test runs
// on the tree (before vitest: the tree as it is passes them) bite: a copy of the tree with
// forbidden imports, and an export nobody uses, fails them, naming what is wrong. The two
// checks run side by side on the one copy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../build/bundle.ts';

const TREE = ['build', 'cli', 'contract', 'demo', 'lib', 'report', 'scripts-src', 'sink', 'grafana', 'examples', 'bench', 'fixtures', 'test'];
const FILES = ['package.json', 'tsconfig.json', 'vitest.config.ts', '.dependency-cruiser.cjs', 'knip.jsonc'];

let copy: string;
beforeAll(() => {
  copy = mkdtempSync(join(tmpdir(), 'pla-rules-'));
  for (const dir of TREE) cpSync(join(ROOT, dir), join(copy, dir), { recursive: true, filter: (src) => !src.includes('/node_modules') });
  for (const file of FILES) cpSync(join(ROOT, file), join(copy, file));
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
  appendFileSync(join(copy, 'sink/model/labels.ts'), "\nimport '../grade/runs.ts';\n");
  appendFileSync(join(copy, 'sink/fanout/fanout.ts'), "\nimport '../remote-write/decode.ts';\n");
  appendFileSync(join(copy, 'sink/grade/runs.ts'), "\nimport '../fanout/fanout.ts';\n");
  appendFileSync(join(copy, 'cli/cli.ts'), "\nimport '../sink/app.ts';\n");
  appendFileSync(join(copy, 'test/unit/tags.test.ts'), "\nimport '../../bench/relay.ts';\n");
  appendFileSync(join(copy, 'sink/model/histogram.ts'), '\nexport const nobodyReadsThis = 1;\n');
});
afterAll(() => rmSync(copy, { recursive: true, force: true }));

function npmRun(script: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('npm', ['run', '-s', script], { cwd: copy, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: stdout + stderr });
    });
  });
}

describe.concurrent('the checks npm test runs on the tree', () => {
  it('fail on forbidden imports, naming each rule broken', async () => {
    const { code, output } = await npmRun('check:imports');
    expect(code).not.toBe(0);
    const broken = [...output.matchAll(/error ([a-z-]+): (\S+) → (\S+)/g)].map((m) => `${m[1]}: ${m[2]} → ${m[3]}`);
    expect(broken).toEqual(
      expect.arrayContaining([
        'model-stands-alone: sink/model/labels.ts → sink/grade/runs.ts',
        'fanout-apart: sink/fanout/fanout.ts → sink/remote-write/decode.ts',
        'grade-apart: sink/grade/runs.ts → sink/fanout/fanout.ts',
        'cli-and-sink-share-only-contract: cli/cli.ts → sink/app.ts',
        'tests-do-not-import-benches: test/unit/tags.test.ts → bench/relay.ts',
      ]),
    );
    expect(output).toMatch(/error no-cycles: /);
  });

  it('fail on an export nobody imports', async () => {
    const { code, output } = await npmRun('check:unused');
    expect(code).not.toBe(0);
    expect(output).toMatch(/nobodyReadsThis\s+sink\/model\/histogram\.ts/);
  });
});
