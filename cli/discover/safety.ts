// Before any request leaves: the target and the planned peak are printed, and a target
// outside loopback needs a confirmation (a y on a terminal, --yes in scripts).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline/promises';
import { CliError } from '../args.ts';
import { isLoopbackHost } from './browser-fetch.ts';

export interface PlannedLoad {
  maxVus: number;
  /** k6's own bound on the run's length, graceful stop included: `1m0s`. */
  totalDuration: string;
}

/** The bundle's peak VUs and length as k6 itself works them out (`k6 inspect --execution-requirements`). */
export async function plannedLoad(k6: string, bundle: string, env: Record<string, string>): Promise<PlannedLoad | null> {
  const args = ['inspect', '--execution-requirements', ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]), bundle];
  const stdout = await new Promise<string | null>((resolveOut) => {
    const child = spawn(k6, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', () => resolveOut(null));
    child.on('exit', (code) => resolveOut(code === 0 ? out : null));
  });
  try {
    const parsed = JSON.parse(stdout ?? '') as { maxVUs?: number; totalDuration?: string };
    return typeof parsed.maxVUs === 'number' ? { maxVus: parsed.maxVUs, totalDuration: parsed.totalDuration ?? '?' } : null;
  } catch {
    return null;
  }
}

export function planLine(target: string, plan: PlannedLoad | null, instances: number): string {
  const peak = plan ? `planned peak ${plan.maxVus} VU${plan.maxVus === 1 ? '' : 's'}${instances > 1 ? ` over ${instances} k6 instances` : ''}, at most ${plan.totalDuration} (k6 inspect)` : 'planned peak: as the script says';
  return `load on ${new URL(target).host}: ${peak}`;
}

/**
 * Loopback targets go ahead. Others need --yes, or a y typed on a terminal; without a
 * terminal the run stops here with one sentence, before any request is sent.
 */
export async function confirmTarget(target: string, plan: PlannedLoad | null, yes: boolean, say: (line: string) => void): Promise<void> {
  const host = new URL(target).hostname;
  if (isLoopbackHost(host) || yes) return;
  const what = `${new URL(target).host}${plan ? ` with up to ${plan.maxVus} VUs` : ''}`;
  if (!process.stdin.isTTY) throw new CliError(`${new URL(target).host} is outside loopback: confirm the load on it (${plan ? `${plan.maxVus} VUs at peak` : 'as the script says'}) with --yes.`);
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = (await rl.question(`Load ${what}? This sends real traffic to it. [y/N] `)).trim().toLowerCase();
    if (answer !== 'y' && answer !== 'yes') throw new CliError(`Not confirmed: nothing was sent to ${new URL(target).host}.`);
    say(`confirmed: loading ${what}`);
  } finally {
    rl.close();
  }
}
