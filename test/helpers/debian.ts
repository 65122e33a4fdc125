// The Debian packages integration tests start for real (on loopback, with temp dirs).
// Missing ones are installed with apt-get when running as root; otherwise the suite
// stops with one sentence naming what to install.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Binary the tests run → the Debian package that ships it. */
export const DEBIAN_TOOLS: Record<string, string> = {
  prometheus: 'prometheus',
  promtool: 'prometheus',
  amtool: 'prometheus-alertmanager',
  influxd: 'influxdb',
  'victoria-metrics': 'victoria-metrics',
  vmagent: 'victoria-metrics',
  chromium: 'chromium',
  pdftoppm: 'poppler-utils',
  'docker-compose': 'docker-compose',
};

function found(binary: string): boolean {
  return existsSync(`/usr/bin/${binary}`) || spawnSync('sh', ['-c', `command -v ${binary}`]).status === 0;
}

export function missingPackages(): string[] {
  return [...new Set(Object.entries(DEBIAN_TOOLS).filter(([bin]) => !found(bin)).map(([, pkg]) => pkg))].sort();
}

export function ensureDebianPackages(log: (line: string) => void): void {
  const missing = missingPackages();
  if (missing.length === 0) return;
  const isRoot = process.getuid?.() === 0;
  if (!isRoot || !found('apt-get')) {
    throw new Error(`The integration tests need these Debian packages: install them with "sudo apt-get install ${missing.join(' ')}" (or set SKIP_INTEGRATION=1).`);
  }
  log(`installing Debian packages: ${missing.join(' ')} (apt-get update, then install; this takes a few minutes)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-q'], { stdio: ['ignore', 'inherit', 'inherit'], env });
  execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { stdio: ['ignore', 'inherit', 'inherit'], env });
  const still = missingPackages();
  if (still.length > 0) throw new Error(`apt-get ran but these Debian packages are still missing: ${still.join(' ')}.`);
}
