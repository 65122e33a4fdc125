// A real shop engine for discovery and journey tests: django-oscar from PyPI, with its own
// templates and SQLite, served by gunicorn on a free loopback port.
//
// ensureOscar() (called by npm test's setup) installs the pinned packages of
// test/fixtures/oscar/requirements.txt into a venv under .tools/oscar/, migrates and seeds
// a template database once, and reuses both while their inputs are unchanged (the folder
// names carry a hash of them). startOscar() copies the template into a temp dir, so every
// shop starts clean and in about a second.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { projectRoot } from '../../contract/dist-layout.ts';
import { runProcess } from '../../fixtures/processes.ts';

export interface OscarShop {
  baseUrl: string; // http://127.0.0.1:<port>  (the shop redirects / to /fr/)
  homeUrl: string; // <baseUrl>/fr/
  categoryUrl: string; // a category page holding the product
  productUrl: string; // a product page the offer and the voucher apply to
  productName: string;
  voucherCode: string; // a voucher code valid on that product
  offer: { name: string; minQuantity: number; percent: number }; // the automatic basket offer
  /**
   * gunicorn's own access log, without the query string. It writes a line just after the
   * response has left, so a test that reads it right after a response waits for the line
   * (waitFor in stores.ts); after a k6 run or a CLI exit it is there.
   */
  accessLog(): string[]; // "METHOD /path STATUS" lines the shop served since start
  /** The same lines with the User-Agent each request came with: who sent what, in order. */
  accessEntries(): Array<{ line: string; agent: string }>;
  clearAccessLog(): void;
  /**
   * Read from the shop's own SQLite file by test/fixtures/oscar/baskets.py, not from the
   * running shop. Oscar does not store the offers a basket qualifies for (it works them out
   * on each request): `offers` is worked out from the basket's lines and vouchers the way
   * oscar does for the seed's "Count" conditions (see baskets.py).
   */
  baskets(): Promise<OscarBasket[]>;
  stop(): Promise<void>;
  /** <baseUrl>/fr/basket/: the basket page, with the offer's discount line and the voucher form. */
  basketUrl: string;
  /** The voucher behind voucherCode: its name and the offer it unlocks (−percent % on the range). */
  voucher: { name: string; offerName: string; percent: number };
  /** Every product of the catalogue; inOffer says whether the offer's and the voucher's range holds it. */
  products: Array<{ id: number; name: string; url: string; inOffer: boolean }>;
  /** Hosts the shop's pages load assets from (oscar's CDN jQuery, an analytics tag): never loopback. */
  thirdPartyHosts: string[];
  /** What gunicorn and Django wrote to stderr (boot lines, tracebacks of any 500). */
  serverLog(): string;
  /** The temp dir of this start: db.sqlite3, media/, whoosh_index/, access.log. Removed by stop(). */
  dataDir: string;
}

export interface OscarBasket {
  id: number;
  status: string;
  lines: number;
  quantity: number;
  vouchers: string[];
  offers: string[];
}

export interface OscarInstall {
  venv: string;
  python: string;
  gunicorn: string;
  templateDir: string;
  manifest: Manifest;
}

interface Manifest {
  homePath: string;
  basketPath: string;
  categoryPath: string;
  productPath: string;
  productName: string;
  voucherCode: string;
  voucher: { name: string; offerName: string; percent: number };
  offer: { name: string; minQuantity: number; percent: number };
  products: Array<{ id: number; name: string; path: string; inOffer: boolean }>;
}

export class OscarSetupError extends Error {}

export const OSCAR_PROJECT = join(projectRoot(), 'test', 'fixtures', 'oscar');
const REQUIREMENTS = join(OSCAR_PROJECT, 'requirements.txt');
const TOOLS_DIR = join(projectRoot(), '.tools', 'oscar');
const MIN_PYTHON = [3, 10] as const; // Django 5.2's floor
const INSTALL_TIMEOUT_MS = 10 * 60_000;
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;
// Sized for a few k6 VUs on a 2-core machine: a process per core, threads for the time a
// request waits on SQLite's single writer.
const WORKERS = 2;
const THREADS = 4;

type Log = (line: string) => void;
const quiet: Log = () => {};

function hashOf(parts: Array<string | Buffer>): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex').slice(0, 12);
}

/** The files that shape the template database: the pins, and the Django project's code. */
function templateInputs(dir = join(OSCAR_PROJECT, 'promoshop')): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.name !== '__pycache__')
    .flatMap((e) => (e.isDirectory() ? templateInputs(join(dir, e.name)) : e.name.endsWith('.py') ? [join(dir, e.name)] : []))
    .sort();
}

function pythonVersion(python: string): string | null {
  const res = spawnSync(python, ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])'], { encoding: 'utf8', timeout: 20_000 });
  return res.status === 0 ? res.stdout.trim() : null;
}

function findPython(): { python: string; version: string } {
  for (const python of ['python3', 'python']) {
    const version = pythonVersion(python);
    if (!version) continue;
    const [major, minor] = version.split('.').map(Number);
    if (major! > MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor! >= MIN_PYTHON[1])) return { python, version };
    throw new OscarSetupError(`The real shop engine (django-oscar) needs Python ≥ ${MIN_PYTHON.join('.')}, found ${version}: install it with "sudo apt-get install python3 python3-venv" (or set SKIP_INTEGRATION=1).`);
  }
  throw new OscarSetupError('The real shop engine (django-oscar) needs Python 3: install it with "sudo apt-get install python3 python3-venv" (or set SKIP_INTEGRATION=1).');
}

/**
 * The environment of the venv's Python. pip installs without compiling (a third of its
 * time, mostly modules never imported); Python compiles what it imports on first use and
 * keeps it under the venv, not in __pycache__ folders of the repo (PYTHONPYCACHEPREFIX).
 */
function pythonEnv(venv: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONPYCACHEPREFIX: join(venv, '.pycache'), ...extra };
  delete env.PYTHONDONTWRITEBYTECODE;
  return env;
}

function run(cmd: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; log: Log }): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: options.cwd ?? OSCAR_PROJECT, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      for (const line of chunk.toString().split('\n')) if (line.trim()) options.log(`  ${line.trim()}`);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => child.kill('SIGKILL'), INSTALL_TIMEOUT_MS);
    child.on('error', (err) => resolve({ code: -1, output: String(err) }));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, output });
    });
  });
}

const lastLine = (output: string) => output.trim().split('\n').at(-1)?.trim() ?? '';

/** Removes the venvs and templates of older pins, so .tools/oscar holds one of each. */
function removeStale(prefix: string, keep: string): void {
  if (!existsSync(TOOLS_DIR)) return;
  for (const name of readdirSync(TOOLS_DIR)) if (name.startsWith(prefix) && name !== keep) rmSync(join(TOOLS_DIR, name), { recursive: true, force: true });
}

async function ensureVenv(log: Log): Promise<string> {
  const { python, version } = findPython();
  const name = `venv-${hashOf([readFileSync(REQUIREMENTS), version])}`;
  const venv = join(TOOLS_DIR, name);
  const done = join(venv, '.installed');
  if (existsSync(done)) return venv;
  removeStale('venv-', name);
  rmSync(venv, { recursive: true, force: true });
  mkdirSync(TOOLS_DIR, { recursive: true });
  const started = Date.now();
  log(`Installing django-oscar (${relative(projectRoot(), REQUIREMENTS)}) with pip into ${relative(projectRoot(), venv)}; this takes under a minute, once.`);
  const made = await run(python, ['-m', 'venv', venv], { log });
  if (made.code !== 0) {
    const why = /ensurepip/i.test(made.output) ? 'its venv module is missing: install it with "sudo apt-get install python3-venv"' : lastLine(made.output);
    throw new OscarSetupError(`"${python} -m venv" failed, so the real shop engine cannot be installed: ${why} (or set SKIP_INTEGRATION=1).`);
  }
  const pip = await run(join(venv, 'bin', 'python'), ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--no-compile', '-q', '-r', REQUIREMENTS], { env: pythonEnv(venv), log });
  if (pip.code !== 0) {
    throw new OscarSetupError(`pip could not install the real shop engine from PyPI (${lastLine(pip.output)}): check that PyPI is reachable (or set SKIP_INTEGRATION=1).`);
  }
  writeFileSync(done, `${new Date().toISOString()}\n`);
  log(`django-oscar installed in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  return venv;
}

async function ensureTemplate(venv: string, log: Log): Promise<string> {
  const name = `template-${hashOf([venv, ...[REQUIREMENTS, join(OSCAR_PROJECT, 'manage.py'), ...templateInputs()].flatMap((f) => [relative(OSCAR_PROJECT, f), readFileSync(f)])])}`;
  const template = join(TOOLS_DIR, name);
  if (existsSync(join(template, 'manifest.json'))) return template;
  removeStale('template-', name);
  const building = `${template}.building-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  mkdirSync(building, { recursive: true });
  const started = Date.now();
  log('Migrating and seeding the shop\'s template database (once per change of test/fixtures/oscar).');
  const env = pythonEnv(venv, { DJANGO_SETTINGS_MODULE: 'promoshop.settings', SHOP_DATA_DIR: building, DJANGO_SECRET_KEY: randomBytes(32).toString('base64url') });
  const python = join(venv, 'bin', 'python');
  for (const args of [['manage.py', 'migrate', '--noinput', '-v', '0'], ['manage.py', 'seed_shop', '--manifest', join(building, 'manifest.json')]]) {
    const res = await run(python, args, { env, log: quiet });
    if (res.code !== 0) {
      rmSync(building, { recursive: true, force: true });
      throw new OscarSetupError(`"manage.py ${args[1]}" failed for the oscar test shop: ${lastLine(res.output)}`);
    }
  }
  // The last connection closed, so SQLite folded its WAL into db.sqlite3: one file to copy.
  try {
    renameSync(building, template);
  } catch (err) {
    // Another process built the same template meanwhile; theirs is as good as ours.
    rmSync(building, { recursive: true, force: true });
    if (!existsSync(join(template, 'manifest.json'))) throw err;
  }
  log(`Template database ready in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  return template;
}

/** Installs (once) what startOscar() runs. Throws one sentence naming what is missing. */
export async function ensureOscar(log: Log = quiet): Promise<OscarInstall> {
  const venv = await ensureVenv(log);
  const templateDir = await ensureTemplate(venv, log);
  return {
    venv,
    python: join(venv, 'bin', 'python'),
    gunicorn: join(venv, 'bin', 'gunicorn'),
    templateDir,
    manifest: JSON.parse(readFileSync(join(templateDir, 'manifest.json'), 'utf8')) as Manifest,
  };
}

/** Started shops and their temp dirs, for the exit hook. */
const running = new Map<ChildProcess, string>();
let exitHookInstalled = false;

function kill(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    child.kill(signal);
  } catch {
    // already gone
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A test file that dies without stop() must not leave gunicorn serving, nor its data.
  process.on('exit', () => {
    for (const [child, dataDir] of running) {
      kill(child, 'SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
}

export interface StartOptions {
  /** A fixed port (for a demo by hand); 0 (default) lets the system pick a free one. */
  port?: number;
  log?: Log;
}

export async function startOscar(options: StartOptions = {}): Promise<OscarShop> {
  const install = await ensureOscar(options.log ?? quiet);
  const dataDir = mkdtempSync(join(tmpdir(), 'pla-oscar-'));
  // db.sqlite3, media/ (product images and their thumbnails), whoosh_index/ (oscar's search).
  cpSync(install.templateDir, dataDir, { recursive: true });
  const dbPath = join(dataDir, 'db.sqlite3');
  const accessPath = join(dataDir, 'access.log');
  writeFileSync(accessPath, '');

  const child = spawn(
    install.gunicorn,
    [
      'promoshop.wsgi:application',
      '--bind', `127.0.0.1:${options.port ?? 0}`,
      '--worker-class', 'gthread', '--workers', String(WORKERS), '--threads', String(THREADS),
      // Django and oscar are imported once, before the workers fork: starts take about a second.
      '--preload',
      '--timeout', '60', '--graceful-timeout', '5',
      // Gunicorn's default control socket is one path per user: two shops would share it.
      '--no-control-socket',
      // The User-Agent after a tab: tests tell discovery's requests (a browser's) from k6's.
      '--access-logfile', accessPath, '--access-logformat', '%(m)s %(U)s %(s)s\t%(a)s',
      '--error-logfile', '-',
      '--config', join(OSCAR_PROJECT, 'gunicorn.conf.py'),
    ],
    {
      cwd: OSCAR_PROJECT,
      env: pythonEnv(install.venv, {
        PYTHONUNBUFFERED: '1',
        DJANGO_SETTINGS_MODULE: 'promoshop.settings',
        SHOP_DATA_DIR: dataDir,
        DJANGO_SECRET_KEY: randomBytes(32).toString('base64url'),
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  installExitHook();
  running.set(child, dataDir);
  let log = '';
  const keep = (chunk: Buffer) => {
    log += chunk.toString();
    if (log.length > 1_000_000) log = log.slice(-500_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => resolve(code));
    child.on('error', () => resolve(null)); // never started: nothing to wait for
  });
  let alive = true;
  void exited.then(() => {
    alive = false;
    running.delete(child);
  });

  const stop = async () => {
    if (alive) {
      // Gunicorn's quick shutdown (the data is thrown away): the master stops its workers.
      kill(child, 'SIGQUIT');
      const timer = setTimeout(() => kill(child, 'SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    const port = await listeningPort(() => log, () => alive);
    const baseUrl = `http://127.0.0.1:${port}`;
    // Ready once a worker answers; the probe's line is left out of accessLog().
    await until('the oscar shop to answer', async () => (await fetch(`${baseUrl}/`, { redirect: 'manual' }).catch(() => null))?.status === 302, () => alive, () => log);
    await until('gunicorn to log the probe', () => readFileSync(accessPath, 'utf8').includes('GET / 302'), () => alive, () => log);
    let offset = statSync(accessPath).size;
    const entries = () =>
      readFileSync(accessPath).subarray(offset).toString('utf8').split('\n').filter((l) => l !== '').map((l) => {
        const tab = l.indexOf('\t');
        return tab === -1 ? { line: l, agent: '' } : { line: l.slice(0, tab), agent: l.slice(tab + 1) };
      });
    const m = install.manifest;
    return {
      baseUrl,
      homeUrl: `${baseUrl}${m.homePath}`,
      categoryUrl: `${baseUrl}${m.categoryPath}`,
      productUrl: `${baseUrl}${m.productPath}`,
      basketUrl: `${baseUrl}${m.basketPath}`,
      productName: m.productName,
      voucherCode: m.voucherCode,
      voucher: m.voucher,
      offer: m.offer,
      products: m.products.map((p) => ({ id: p.id, name: p.name, url: `${baseUrl}${p.path}`, inOffer: p.inOffer })),
      thirdPartyHosts: ['ajax.googleapis.com', 'www.googletagmanager.com'],
      dataDir,
      accessLog: () => entries().map((e) => e.line),
      accessEntries: entries,
      clearAccessLog: () => {
        offset = statSync(accessPath).size;
      },
      baskets: () => readBaskets(install.python, dbPath),
      serverLog: () => log,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function until(what: string, check: () => boolean | Promise<boolean>, alive: () => boolean, log: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (await check()) return;
    if (!alive()) throw new OscarSetupError(`gunicorn exited while waiting for ${what}:\n${log().trim().split('\n').slice(-20).join('\n')}`);
    if (Date.now() > deadline) throw new OscarSetupError(`timed out after ${START_TIMEOUT_MS / 1000} s waiting for ${what}:\n${log().trim().split('\n').slice(-20).join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function listeningPort(log: () => string, alive: () => boolean): Promise<number> {
  let port = 0;
  try {
    await until('gunicorn to listen', () => {
      const m = log().match(/Listening at: http:\/\/127\.0\.0\.1:(\d+)/);
      if (m) port = Number(m[1]);
      return port > 0;
    }, alive, log);
  } catch (err) {
    const inUse = log().match(/Connection in use: \('127\.0\.0\.1', (\d+)\)/);
    throw inUse ? new OscarSetupError(`Port ${inUse[1]} on 127.0.0.1 is already in use: choose another one.`) : err;
  }
  return port;
}

async function readBaskets(python: string, dbPath: string): Promise<OscarBasket[]> {
  const res = await runProcess(python, [join(OSCAR_PROJECT, 'baskets.py'), dbPath], { timeoutMs: 30_000 });
  if (res.code !== 0) throw new Error(`baskets.py exited ${res.code}: ${res.stderr.trim()}`);
  return JSON.parse(res.stdout) as OscarBasket[];
}
