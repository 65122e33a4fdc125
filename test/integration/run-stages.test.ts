// A CLI run is a scoped resource: whichever stage fails, the run leaves no process, no
// listening server and no signal handler behind. The oracle is the OS's process table
// (ps) and Node's own list of active handles.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCliArgs, type RunArgs } from '../../cli/args.ts';
import { runScenario } from '../../cli/run-scenario.ts';
import { RUN_STAGES, type RunStage } from '../../cli/run-scope.ts';

const k6 = inject('k6Bin');
let outDir: string;
const k6BinBefore = process.env.K6_BIN;

beforeAll(() => {
  outDir = mkdtempSync(join(tmpdir(), 'pla-stages-'));
  process.env.K6_BIN = k6;
});
afterAll(() => {
  if (k6BinBefore === undefined) delete process.env.K6_BIN;
  else process.env.K6_BIN = k6BinBefore;
  rmSync(outDir, { recursive: true, force: true });
});

/** This process's children as the OS lists them ("k6", "node"), ps itself left out. */
function children(): string[] {
  let out = '';
  try {
    out = execFileSync('ps', ['-o', 'comm=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  } catch {
    // ps exits 1 when it lists nothing
  }
  return out.split('\n').map((l) => l.trim()).filter((c) => c !== '' && c !== 'ps');
}

const servers = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;

/** What each stage has running when it ends, as this test sees it. */
const RUNNING: Record<RunStage, { demo: boolean; sink: boolean; k6: boolean }> = {
  prepare: { demo: false, sink: false, k6: false },
  target: { demo: true, sink: false, k6: false },
  discover: { demo: true, sink: false, k6: false },
  sink: { demo: true, sink: true, k6: false },
  thresholds: { demo: true, sink: true, k6: false },
  k6: { demo: true, sink: true, k6: true },
  register: { demo: true, sink: true, k6: true },
  watch: { demo: true, sink: true, k6: false },
  report: { demo: true, sink: true, k6: false },
};

describe('a CLI run, stage by stage', () => {
  it('has a line in this test for every stage', () => {
    expect(Object.keys(RUNNING)).toEqual([...RUN_STAGES]);
  });

  it.each(RUN_STAGES)('leaves no process, server or signal handler behind when the %s stage throws', async (stage) => {
    const before = { servers: servers(), sigint: process.listenerCount('SIGINT'), sigterm: process.listenerCount('SIGTERM') };
    expect(children()).toEqual([]);
    const args = parseCliArgs(['smoke', '--duration', '1s', '--out-dir', outDir]) as RunArgs;
    let seen: { servers: number; children: string[] } | null = null;
    const run = runScenario(args, {
      quiet: true,
      afterStage: (s) => {
        if (s !== stage) return;
        seen = { servers: servers(), children: children() };
        throw new Error(`injected failure at the end of the ${stage} stage`);
      },
    });
    await expect(run).rejects.toThrow(`injected failure at the end of the ${stage} stage`);
    // The failure came with the stage's resources up: the demo shop listening, the sink and k6 running.
    const running = RUNNING[stage];
    expect(seen!.servers > before.servers).toBe(running.demo);
    expect(seen!.children.includes('node')).toBe(running.sink);
    expect(seen!.children.includes('k6')).toBe(running.k6);
    // And nothing outlived it (a closed server's handle goes on the loop's next turn).
    await new Promise((r) => setTimeout(r, 20));
    expect(children()).toEqual([]);
    expect(servers()).toBe(before.servers);
    expect(process.listenerCount('SIGINT')).toBe(before.sigint);
    expect(process.listenerCount('SIGTERM')).toBe(before.sigterm);
  });
});
