// One owner for a spool directory or a history file: a lock file beside it, created with
// O_EXCL (atomic, also on a volume two containers share) and holding its owner's pid and
// host. The owner touches it every few seconds while it lives, and deletes it when it
// closes. A lock is taken over when its owner is gone: on the same host, when that pid no
// longer runs (a sink killed with SIGKILL); from another host, when it has not been
// touched for STALE_MS.
import { open, readFile, stat, unlink, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';

const HEARTBEAT_MS = 5_000;
export const STALE_MS = 30_000;

/** The lock is held by another live sink: the sink does not start. */
export class LockHeldError extends Error {}

interface Owner {
  pid: number;
  host: string;
  since: string;
}

export interface Lock {
  readonly path: string;
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function owner(path: string): Promise<Owner | null> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<Owner>;
    return typeof parsed.pid === 'number' && typeof parsed.host === 'string' ? (parsed as Owner) : null;
  } catch {
    return null; // unreadable or half-written: treated as stale below only by its age
  }
}

/** Is the lock at `path` (owned by `o`) left behind by an owner that is gone? */
async function stale(path: string, o: Owner | null): Promise<boolean> {
  if (o && o.host === hostname()) return o.pid === process.pid || !alive(o.pid);
  try {
    return Date.now() - (await stat(path)).mtimeMs > STALE_MS;
  } catch {
    return true; // gone meanwhile
  }
}

/**
 * Takes the lock file `path` (default `<target>.lock`) for this process, or throws
 * LockHeldError with one sentence naming the holder's pid and `target` (`what` says
 * what it is).
 */
export async function acquireLock(target: string, what: string, path = `${target}.lock`): Promise<Lock> {
  const me: Owner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(path, 'wx');
      try {
        await fh.writeFile(JSON.stringify(me) + '\n');
        await fh.sync();
      } finally {
        await fh.close();
      }
      const timer = setInterval(() => {
        const now = new Date();
        void utimes(path, now, now).catch(() => {});
      }, HEARTBEAT_MS);
      timer.unref();
      return {
        path,
        async release() {
          clearInterval(timer);
          const o = await owner(path);
          if (o && o.pid === me.pid && o.host === me.host) await unlink(path).catch(() => {});
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const o = await owner(path);
    if (!(await stale(path, o))) {
      const holder = o ? `sink pid ${o.pid}${o.host === me.host ? '' : ` on ${o.host}`}` : 'another sink';
      throw new LockHeldError(`The ${what} ${target} is in use by ${holder} (lock file ${path}); give this sink another ${what}, or stop that one.`);
    }
    // Its owner is gone: take it over (if two sinks race for it, O_EXCL lets one win).
    await unlink(path).catch(() => {});
  }
  throw new LockHeldError(`The ${what} ${target} could not be locked (${path} keeps coming back); is another sink starting?`);
}
