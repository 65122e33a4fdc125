// Running the real k6 and the real CLI as child processes, bounded in time.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../../build/bundle.ts';
import { cliMain } from '../../contract/dist-layout.ts';

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runProcess(cmd: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: options.cwd ?? ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 150_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The CLI exactly as `npm run k6 -- …` runs it, with k6 already resolved. */
export function runCli(args: string[], k6Bin: string, env: NodeJS.ProcessEnv = {}): Promise<Finished> {
  return runProcess(process.execPath, [cliMain(), ...args], { env: { K6_BIN: k6Bin, ...env } });
}

/** "Grade: A (97/100) [green]" → "A (97/100)". */
export function printedGrade(stdout: string): string | null {
  return stdout.match(/^Grade: (.+?) \[/m)?.[1] ?? null;
}

export function printedTestId(stdout: string): string | null {
  return stdout.match(/^testid (\S+)$/m)?.[1] ?? null;
}
