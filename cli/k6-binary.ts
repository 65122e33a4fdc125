// Finds a k6 ≥ 2.2, or builds the pinned one with Go into a project-local tools folder.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { projectRoot } from '../contract/dist-layout.ts';

/** The one place the k6 version is pinned. */
export const K6_MODULE = 'go.k6.io/k6/v2';
export const K6_VERSION = 'v2.2.0';
export const MIN_K6 = [2, 2] as const;
export const TOOLS_BIN = join(projectRoot(), '.tools', 'bin');

export class K6NotFoundError extends Error {}

/** "k6 v2.2.0 (commit/…)" → [2, 2, 0]; null when the output is not k6's. */
export function parseK6Version(output: string): [number, number, number] | null {
  const m = output.match(/k6 v?(\d+)\.(\d+)\.(\d+)/);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

function versionOf(bin: string): [number, number, number] | null {
  const res = spawnSync(bin, ['version'], { encoding: 'utf8', timeout: 20_000 });
  return res.status === 0 ? parseK6Version(res.stdout) : null;
}

function recentEnough(v: [number, number, number] | null): boolean {
  return v !== null && (v[0] > MIN_K6[0] || (v[0] === MIN_K6[0] && v[1] >= MIN_K6[1]));
}

function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return null;
}

export type Progress = (line: string) => void;

/** K6_BIN, then k6 on PATH if ≥ 2.2, then .tools/bin/k6, built with Go when missing. */
export async function resolveK6(progress: Progress = (l) => process.stderr.write(l + '\n')): Promise<string> {
  const fromEnv = process.env.K6_BIN;
  if (fromEnv) {
    if (!versionOf(fromEnv)) throw new K6NotFoundError(`K6_BIN points to "${fromEnv}", which does not run as k6.`);
    return fromEnv;
  }
  const global = onPath('k6');
  if (global && recentEnough(versionOf(global))) return global;
  const local = join(TOOLS_BIN, 'k6');
  if (existsSync(local) && recentEnough(versionOf(local))) return local;
  await installK6(progress);
  if (!recentEnough(versionOf(local))) throw new K6NotFoundError(`The k6 built into ${local} does not run; delete it and try again.`);
  return local;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd: string, progress: Progress): Promise<{ code: number; output: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      for (const line of chunk.toString().split('\n')) if (line.trim()) progress(`  ${line.trim()}`);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) => resolvePromise({ code: -1, output: String(err) }));
    child.on('close', (code) => resolvePromise({ code: code ?? -1, output }));
  });
}

async function installK6(progress: Progress): Promise<void> {
  const go = onPath('go') ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : null);
  if (!go) {
    throw new K6NotFoundError('k6 ≥ 2.2 was not found and Go is not installed: install k6 (https://grafana.com/docs/k6/latest/set-up/install-k6/) or Go, or set K6_BIN.');
  }
  mkdirSync(TOOLS_BIN, { recursive: true });
  const started = Date.now();
  progress(`Building k6 ${K6_VERSION} with Go into ${TOOLS_BIN}; this takes a few minutes, once.`);
  const ticker = setInterval(() => progress(`  … still building k6 (${Math.round((Date.now() - started) / 1000)} s)`), 15_000);
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, GOBIN: TOOLS_BIN };
    const first = await run(go, ['install', `${K6_MODULE}@${K6_VERSION}`], env, projectRoot(), progress);
    if (first.code === 0) return;
    // `go install m@v` also asks the proxy for the module's version list (to warn about
    // deprecation); a proxy that serves the version but not the list fails it. Building
    // inside the downloaded module avoids that query, and k6's own go.sum still pins
    // every dependency.
    progress('  go install failed; building from the downloaded module instead.');
    const proxyEnv = { ...env, GOFLAGS: `${env.GOFLAGS ?? ''} -mod=mod`.trim(), GONOSUMDB: `${env.GONOSUMDB ? env.GONOSUMDB + ',' : ''}go.k6.io` };
    const download = await run(go, ['mod', 'download', '-json', `${K6_MODULE}@${K6_VERSION}`], proxyEnv, projectRoot(), () => {});
    const dir = download.code === 0 ? (JSON.parse(download.output) as { Dir?: string }).Dir : undefined;
    if (!dir) throw new K6NotFoundError(`Go could not download ${K6_MODULE}@${K6_VERSION}: ${lastLine(first.output)}`);
    const built = await run(go, ['install', '.'], proxyEnv, dir, progress);
    if (built.code !== 0) throw new K6NotFoundError(`Go could not build k6 ${K6_VERSION}: ${lastLine(built.output)}`);
  } finally {
    clearInterval(ticker);
  }
  progress(`Built k6 ${K6_VERSION} in ${Math.round((Date.now() - started) / 1000)} s.`);
}

function lastLine(output: string): string {
  return output.trim().split('\n').pop() ?? '';
}
