// Validation before load, as k6 Studio's validation run does: the scenario runs once in
// real k6 (1 VU, 1 iteration) and every step's requests and checks are read back from
// k6's own --out json samples. The load starts only when every step passes.
import { spawn } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';

export interface StepResult {
  step: string;
  requests: Array<{ method: string; url: string; status: number }>;
  checks: Array<{ name: string; passes: number; fails: number }>;
  ok: boolean;
}

export interface Validation {
  ok: boolean;
  steps: StepResult[];
  k6ExitCode: number;
  /** One sentence per failing step. */
  failures: string[];
}

/** The step a check belongs to: the longest step name its name starts with. */
function stepOfCheck(check: string, stepNames: string[]): string | undefined {
  return stepNames.filter((s) => check === s || check.startsWith(`${s} `) || check.startsWith(`${s}:`)).sort((a, b) => b.length - a.length)[0];
}

/** Reads k6's JSON lines (plain or gzipped) into per-step results, in the order given. */
export async function readValidation(samplesPath: string, stepNames: string[]): Promise<StepResult[]> {
  const steps = new Map<string, StepResult>(stepNames.map((s) => [s, { step: s, requests: [], checks: [], ok: false }]));
  if (existsSync(samplesPath)) {
    const input = samplesPath.endsWith('.gz') ? createReadStream(samplesPath).pipe(createGunzip()) : createReadStream(samplesPath);
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      if (!line.includes('"Point"')) continue;
      const point = JSON.parse(line) as { metric: string; data: { value: number; tags?: Record<string, string> } };
      const tags = point.data.tags ?? {};
      // A discovered scenario tags its steps; the bundled ones tag page_type, and name their checks after it.
      const step = tags.step ?? (point.metric === 'checks' ? stepOfCheck(tags.check ?? '', stepNames) : tags.page_type);
      if (!step) continue;
      const result = steps.get(step) ?? { step, requests: [], checks: [], ok: false };
      steps.set(step, result);
      if (point.metric === 'http_reqs') result.requests.push({ method: tags.method ?? '?', url: tags.url ?? tags.name ?? '?', status: Number(tags.status ?? 0) });
      if (point.metric === 'checks') {
        const name = tags.check ?? '?';
        let c = result.checks.find((x) => x.name === name);
        if (!c) result.checks.push((c = { name, passes: 0, fails: 0 }));
        if (point.data.value === 1) c.passes++;
        else c.fails++;
      }
    }
  }
  for (const r of steps.values()) r.ok = r.requests.length > 0 && r.checks.length > 0 && r.checks.every((c) => c.fails === 0);
  return [...steps.values()];
}

function pathOf(url: string): string {
  try {
    const u = new URL(url);
    return u.pathname + u.search;
  } catch {
    return url;
  }
}

/** One sentence for a failing step. */
export function failureSentence(r: StepResult): string {
  const last = r.requests[r.requests.length - 1];
  if (r.requests.length === 0) {
    const failed = r.checks.filter((c) => c.fails > 0).map((c) => c.name.replace(`${r.step}: `, ''));
    return `${r.step}: no request was sent${failed.length ? ` (${failed.join('; ')})` : ''}.`;
  }
  const failed = r.checks.filter((c) => c.fails > 0).map((c) => c.name.replace(`${r.step}: `, '').replace(`${r.step} `, ''));
  return `${r.step}: ${last!.method} ${pathOf(last!.url)} answered ${last!.status}; failed: ${failed.join('; ')}.`;
}

export function validationTable(v: Validation): string[] {
  const lines = ['', 'validation (1 VU, 1 iteration, real k6):', `  ${'step'.padEnd(14)} ${'requests'.padEnd(48)} checks`];
  for (const r of v.steps) {
    const reqs = r.requests.map((q) => `${q.method} ${pathOf(q.url)} ${q.status}`).join(' → ') || '—';
    const checks = r.checks.length === 0 ? '—' : r.checks.map((c) => `${c.fails === 0 ? 'ok' : 'FAILED'} ${c.name.replace(`${r.step}: `, '')}`).join('; ');
    lines.push(`  ${(r.ok ? '✓ ' : '✗ ') + r.step.padEnd(12)} ${reqs.length > 48 ? reqs.slice(0, 45) + '…' : reqs.padEnd(48)} ${checks}`);
  }
  return lines;
}

/** Runs the bundle once in k6 with the run's environment, and reads each step's outcome. */
export async function validateBundle(k6: string, bundle: string, env: Record<string, string>, stepNames: string[], dir: string): Promise<Validation> {
  const samples = join(dir, 'validation.json');
  const args = ['run', '--quiet', '--vus', '1', '--iterations', '1', ...Object.entries({ ...env, MIN_GRADE: 'none', THINK_TIME_MS: '0' }).flatMap(([k, v]) => ['-e', `${k}=${v}`]), '--out', `json=${samples}`, bundle];
  let stderr = '';
  const code = await new Promise<number>((resolveCode, reject) => {
    const child = spawn(k6, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, K6_NO_USAGE_REPORT: 'true' } });
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (c) => resolveCode(c ?? 1));
  });
  // --iterations replaces the script's scenarios on purpose: k6's warning about it is noise here.
  const errors = stderr.split('\n').filter((l) => /level=(error|fatal)|^\s*(ReferenceError|TypeError|SyntaxError)/.test(l));
  const steps = await readValidation(samples, stepNames);
  const failing = steps.filter((s) => !s.ok);
  const failures = failing.map(failureSentence);
  if (code !== 0 && failures.length === 0) failures.push(`k6 exited with ${code} during validation${errors.length ? `: ${errors[0]!.replace(/^.*msg="?/, '').replace(/"$/, '')}` : ''}.`);
  return { ok: failures.length === 0, steps, k6ExitCode: code, failures };
}
