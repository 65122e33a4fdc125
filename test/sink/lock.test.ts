// One owner per spool directory and history file (sink/lock.ts): when a lock left behind
// may be taken over, and when it may not.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LockHeldError, STALE_MS, acquireLock } from '../../sink/lock.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lock-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the lock of a sink’s file', () => {
  it('holds the owner’s pid and host, and is gone once released', async () => {
    const target = join(dir, 'history.jsonl');
    const lock = await acquireLock(target, 'history file');
    expect(JSON.parse(await readFile(`${target}.lock`, 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
    await lock.release();
    expect(existsSync(`${target}.lock`)).toBe(false);
  });

  it('is held while a sink on another host keeps touching it, and taken over once it has not for STALE_MS', async () => {
    const target = join(dir, 'spool');
    await writeFile(`${target}.lock`, JSON.stringify({ pid: 1, host: 'another-container', since: new Date().toISOString() }));
    await expect(acquireLock(target, 'spool directory')).rejects.toThrow(
      new LockHeldError(`The spool directory ${target} is in use by sink pid 1 on another-container (lock file ${target}.lock); give this sink another spool directory, or stop that one.`),
    );
    const old = new Date(Date.now() - STALE_MS - 1000);
    await utimes(`${target}.lock`, old, old);
    const lock = await acquireLock(target, 'spool directory');
    expect(JSON.parse(await readFile(`${target}.lock`, 'utf8'))).toMatchObject({ pid: process.pid });
    await lock.release();
  });

  it('is taken over at once from a pid of this host that no longer runs', async () => {
    const target = join(dir, 'history.jsonl');
    await writeFile(`${target}.lock`, JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), since: new Date().toISOString() }));
    const lock = await acquireLock(target, 'history file');
    await lock.release();
  });
});
