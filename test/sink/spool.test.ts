import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { appendFile, mkdtemp, readdir, rm, stat, truncate, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildApp } from '../../sink/app.ts';
import { createMemorySpool, HEADER_BYTES, openDiskSpool, type Spool, type SpoolOptions, type SpoolRecord } from '../../sink/fanout/spool.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let dir: string;
let open: Spool[];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spool-test-'));
  open = [];
});
afterEach(async () => {
  for (const s of open) await s.close().catch(() => {});
  await rm(dir, { recursive: true, force: true });
});

async function disk(options: Partial<Parameters<typeof openDiskSpool>[1]> & { consumers: string[] }, at = dir): Promise<Spool> {
  const s = await openDiskSpool(at, { maxBytes: 1 << 30, ...options });
  open.push(s);
  return s;
}

const payload = (i: number, size = 64) => Buffer.concat([Buffer.from(`record-${i};`), Buffer.alloc(size, i % 251)]).subarray(0, Math.max(size, 12));
const label = (r: SpoolRecord) => r.payload.toString('latin1').split(';')[0];

/** Everything the consumer can read from its cursor on, acking as it goes if asked. */
async function drain(spool: Spool, consumer: string, ack = false): Promise<SpoolRecord[]> {
  const all: SpoolRecord[] = [];
  for (let seen = new Set<number>(); ;) {
    const batch = await spool.read(consumer, 7, 1 << 20);
    if (batch.length === 0 || seen.has(batch[0].seq)) return all;
    batch.forEach((r) => seen.add(r.seq));
    all.push(...batch);
    if (ack) await spool.ack(consumer, batch[batch.length - 1].seq);
    else if (batch.length < 7) return all; // without acking, read() only ever returns the first records
  }
}

/** Without acking, reading returns the same head again: read it all in one call (from the cache, or one segment). */
const readAll = (spool: Spool, consumer: string) => spool.read(consumer, 1e9, 1e12);

async function appendMany(spool: Spool, n: number, size = 64, from = 1): Promise<number[]> {
  const seqs: number[] = [];
  for (let i = from; i < from + n; i++) seqs.push(await spool.append(1, i, payload(i, size)));
  return seqs;
}

const segFiles = async () => (await readdir(dir)).filter((n) => n.endsWith('.seg')).sort();

type Maker = (options: SpoolOptions & { segmentBytes?: number }) => Promise<Spool>;
const makers: Array<[string, Maker]> = [
  ['disk spool', (o) => disk(o)],
  ['memory spool', async (o) => createMemorySpool(o)],
];

describe.each(makers)('%s', (_name, make) => {
  it('returns records in order to each consumer, independently of the others', async () => {
    const spool = await make({ maxBytes: 1 << 20, consumers: ['prom', 'influx'] });
    expect(await spool.read('prom', 10, 1e6)).toEqual([]);
    expect(await appendMany(spool, 10)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

    const first = await spool.read('prom', 4, 1e6);
    expect(first.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect(first.map(label)).toEqual(['record-1', 'record-2', 'record-3', 'record-4']);
    expect(first[2]).toMatchObject({ kind: 1, weight: 3 });
    await spool.ack('prom', 4);
    expect((await spool.read('prom', 100, 1e6)).map((r) => r.seq)).toEqual([5, 6, 7, 8, 9, 10]);
    expect(spool.lag('prom')).toEqual({ records: 6, bytes: 6 * (HEADER_BYTES + 64), weight: 5 + 6 + 7 + 8 + 9 + 10 });

    // The other consumer has acked nothing; reading without acking returns the same records.
    expect((await spool.read('influx', 3, 1e6)).map((r) => r.seq)).toEqual([1, 2, 3]);
    expect((await spool.read('influx', 3, 1e6)).map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(spool.lag('influx').records).toBe(10);
    // maxBytes limits a read, but a read always returns at least one record.
    expect((await spool.read('influx', 100, 130)).map((r) => r.seq)).toEqual([1, 2]);
    expect((await spool.read('influx', 100, 1)).map((r) => r.seq)).toEqual([1]);
    await expect(spool.read('nobody', 1, 1)).rejects.toThrow(/unknown consumer/);
  });

  it('resolves wait() when a record arrives, and when the signal aborts', async () => {
    const spool = await make({ maxBytes: 1 << 20, consumers: ['a'] });
    const waiting = spool.wait('a');
    setTimeout(() => void spool.append(3, 1, Buffer.from('{}')), 10);
    await waiting;
    expect((await spool.read('a', 10, 1e6)).map((r) => r.kind)).toEqual([3]);
    await spool.ack('a', 1);
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 10);
    await spool.wait('a', abort.signal);
    expect(await spool.read('a', 10, 1e6)).toEqual([]);
  });

  it('drops the oldest records when full, and onDrop counts exactly what a lagging consumer then misses', async () => {
    const drops: Record<string, { records: number; weight: number }> = {};
    const spool = await make({
      maxBytes: 3000, segmentBytes: 700, consumers: ['fast', 'slow'],
      onDrop: (c, records, weight) => {
        drops[c] ??= { records: 0, weight: 0 };
        drops[c].records += records;
        drops[c].weight += weight;
      },
    });
    const weights = new Map<number, number>();
    for (let i = 1; i <= 120; i++) {
      const weight = (i * 37) % 101;
      const seq = await spool.append(2, weight, payload(i, 50 + ((i * 13) % 150)));
      weights.set(seq, weight);
      await spool.ack('fast', seq);
      expect(spool.stats().bytes).toBeLessThanOrEqual(3000);
    }
    const seen = (await readAll(spool, 'slow')).map((r) => r.seq);
    expect(seen.length).toBeGreaterThan(5);
    expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => 121 - seen.length + i)); // the newest, in order
    const missing = [...weights.keys()].filter((s) => !seen.includes(s));
    expect(drops.slow).toEqual({ records: missing.length, weight: missing.reduce((n, s) => n + weights.get(s)!, 0) });
    expect(drops.fast).toBeUndefined();
    expect(spool.lag('slow')).toMatchObject({ records: seen.length, weight: seen.reduce((n, s) => n + weights.get(s)!, 0) });
  });

  it('keeps a record larger than maxBytes on its own, dropping everything before it', async () => {
    const dropped: Array<[string, number, number]> = [];
    const spool = await make({ maxBytes: 1000, segmentBytes: 400, consumers: ['a'], onDrop: (...d) => dropped.push(d) });
    await appendMany(spool, 3, 100);
    const big = await spool.append(1, 500, Buffer.alloc(5000));
    expect(dropped).toEqual([['a', 3, 1 + 2 + 3]]);
    expect((await spool.read('a', 10, 1e6)).map((r) => [r.seq, r.payload.length])).toEqual([[big, 5000]]);
    expect(spool.stats()).toMatchObject({ records: 1, bytes: 5000 + HEADER_BYTES, firstSeq: 4, nextSeq: 5 });
  });
});

describe('disk spool', () => {
  it('resumes after the persisted ack when reopened, and replays what was not acked', async () => {
    let spool = await disk({ consumers: ['prom', 'influx'] });
    await appendMany(spool, 10);
    await spool.ack('prom', 6);
    await spool.close();

    spool = await disk({ consumers: ['prom', 'influx'] });
    expect((await readAll(spool, 'prom')).map((r) => r.seq)).toEqual([7, 8, 9, 10]);
    expect((await readAll(spool, 'influx')).map(label)).toEqual(Array.from({ length: 10 }, (_, i) => `record-${i + 1}`));
    expect(await spool.append(1, 1, payload(11))).toBe(11);
    // An ack is on disk when its promise resolves, even if the spool is never closed.
    await spool.ack('influx', 9);
    spool = await disk({ consumers: ['prom', 'influx', 'added'] });
    expect((await readAll(spool, 'influx')).map((r) => r.seq)).toEqual([10, 11]);
    // A destination added later starts at the end: what the spool held was meant for the others.
    expect((await readAll(spool, 'added')).map((r) => r.seq)).toEqual([]);
    expect(await spool.append(1, 1, payload(12))).toBe(12);
    expect((await readAll(spool, 'added')).map((r) => r.seq)).toEqual([12]);
  });

  it('shares one write and one fdatasync among the appends made in the same tick', async () => {
    const spool = await disk({ consumers: ['a'] });
    await spool.append(1, 1, payload(0));
    const before = spool.stats().flushes;
    const seqs = await Promise.all(Array.from({ length: 50 }, (_, i) => spool.append(1, 1, payload(i))));
    expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => i + 2));
    expect(spool.stats().flushes).toBe(before + 1);
  });

  it('truncates a torn tail when reopened after a crash, keeping every complete record, and logs it', async () => {
    const crashed = await openDiskSpool(dir, { maxBytes: 1 << 20, consumers: ['a'] }); // never closed: a crash
    await appendMany(crashed, 5, 100);
    const [seg] = await segFiles();
    const size = (await stat(join(dir, seg))).size;
    await truncate(join(dir, seg), size - 40); // the last record loses its tail

    const log: string[] = [];
    let spool = await disk({ consumers: ['a'], log: (l) => log.push(l) });
    expect((await readAll(spool, 'a')).map(label)).toEqual(['record-1', 'record-2', 'record-3', 'record-4']);
    expect(log.filter((l) => l.includes('torn tail'))).toEqual([expect.stringMatching(/torn tail at byte 512 after 4 valid records: discarded 88 bytes/)]);
    expect(spool.stats()).toMatchObject({ tornTails: 1, discardedBytes: 88, nextSeq: 5 });
    expect(await spool.append(1, 1, payload(5))).toBe(5);
    await spool.close();

    await appendFile(join(dir, seg), Buffer.from('garbage that is not a record'));
    log.length = 0;
    spool = await disk({ consumers: ['a'], log: (l) => log.push(l) });
    expect((await readAll(spool, 'a')).map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(log).toEqual([expect.stringMatching(/torn tail/)]);
  });

  it('sets aside corruption in the middle of the spool instead of skipping over it', async () => {
    let spool = await disk({ consumers: ['a'], segmentBytes: 400 });
    await appendMany(spool, 9, 100); // three records per segment
    await spool.close();
    const segs = await segFiles();
    expect(segs.length).toBe(3);
    const file = join(dir, segs[1]);
    const bytes = await readFile(file);
    bytes[128 + HEADER_BYTES + 5] ^= 0xff; // a payload byte of the segment's second record
    await writeFile(file, bytes);

    const log: string[] = [];
    spool = await disk({ consumers: ['a'], segmentBytes: 400, log: (l) => log.push(l) });
    expect((await drain(spool, 'a', true)).map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect(log).toEqual([
      `spool: CORRUPTION, not a torn tail: ${segs[1]}: record 5 at byte 128 is damaged, after 1 valid records, and 1 intact records follow it. ` +
        `5 records that had been acknowledged are kept aside in ${segs[1]}.corrupt (256 bytes from the damaged record on) and 1 later segment(s) renamed *.corrupt (384 bytes), and not replayed; ` +
        'the spool keeps the 4 records before it.',
    ]);
    expect((await readdir(dir)).filter((n) => n.endsWith('.corrupt')).sort()).toEqual([`${segs[1]}.corrupt`, `${segs[2]}.corrupt`]);
    expect(await readFile(join(dir, `${segs[1]}.corrupt`))).toEqual(bytes.subarray(128));
    expect(spool.stats()).toMatchObject({ tornTails: 0, corruptions: 1, setAsideRecords: 5, discardedBytes: 256 + 384 });
    expect(await spool.append(1, 1, payload(5))).toBe(5);
  });

  it('tells a flipped byte in the middle of the last segment from a torn tail: the acknowledged records after it are kept aside and counted', async () => {
    let spool = await disk({ consumers: ['a'] });
    await appendMany(spool, 50, 100);
    await spool.close();
    const [seg] = await segFiles();
    const file = join(dir, seg!);
    const bytes = await readFile(file);
    const record = 128; // framed size of each record
    bytes[9 * record + HEADER_BYTES + 40] ^= 0x01; // one bit of record 10's payload
    await writeFile(file, bytes);

    const log: string[] = [];
    spool = await disk({ consumers: ['a'], log: (l) => log.push(l) });
    expect((await readAll(spool, 'a')).map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(log).toEqual([
      `spool: CORRUPTION, not a torn tail: ${seg}: record 10 at byte 1152 is damaged, after 9 valid records, and 40 intact records follow it. ` +
        `41 records that had been acknowledged are kept aside in ${seg}.corrupt (5248 bytes from the damaged record on), and not replayed; the spool keeps the 9 records before it.`,
    ]);
    expect(await readFile(join(dir, `${seg}.corrupt`))).toEqual(bytes.subarray(9 * record));
    expect((await stat(file)).size).toBe(9 * record);
    expect(spool.stats()).toMatchObject({ tornTails: 0, corruptions: 1, setAsideRecords: 41, discardedBytes: 41 * record });
    expect(await spool.append(1, 1, payload(10))).toBe(10);
  });

  it('counts the records it set aside in sink_spool_corrupt_records_total', async () => {
    const spoolDir = join(dir, 'spool');
    const before = await openDiskSpool(spoolDir, { maxBytes: 1 << 20, consumers: ['a'] });
    await appendMany(before, 5, 100);
    await before.close();
    const [seg] = (await readdir(spoolDir)).filter((n) => n.endsWith('.seg'));
    const bytes = await readFile(join(spoolDir, seg!));
    bytes[2 * 128 + HEADER_BYTES] ^= 0x01; // record 3 of 5
    await writeFile(join(spoolDir, seg!), bytes);

    const app = buildApp({ config: { spoolDir, prometheusUrls: ['http://127.0.0.1:9/api/v1/write'] }, drainTimeoutMs: 0 });
    try {
      const res = await app.inject('/metrics');
      expect(res.body).toContain('\nsink_spool_corrupt_records_total 3\n');
    } finally {
      await app.close();
    }
  });

  it('never loses an append whose promise resolved when the process is killed with SIGKILL', async () => {
    const script = join(dir, 'appender.mts');
    const spoolDir = join(dir, 'spool');
    await writeFile(script, `
      import { openDiskSpool } from ${JSON.stringify(pathToFileURL(join(ROOT, 'sink', 'fanout', 'spool.ts')).href)};
      const spool = await openDiskSpool(process.argv[2], { maxBytes: 1 << 30, segmentBytes: 200_000, consumers: ['a'] });
      const worker = async (w: number) => {
        for (let i = 0; ; i++) {
          const seq = await spool.append(1, w, Buffer.alloc(5000, (w * 31 + i) % 256));
          process.stdout.write(seq + '\\n');
        }
      };
      for (let w = 0; w < 8; w++) void worker(w);
    `);
    const child = spawn(process.execPath, ['--import', 'tsx', script, spoolDir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.split('\n').length > 1500) child.kill('SIGKILL');
    });
    const signal = await new Promise((resolve) => child.on('close', (_code, sig) => resolve(sig)));
    expect(signal).toBe('SIGKILL');
    const reported = out.split('\n').filter((l) => /^\d+$/.test(l)).map(Number);
    expect(reported.length).toBeGreaterThan(1500);

    const spool = await disk({ consumers: ['a'] }, spoolDir);
    const seqs = (await drain(spool, 'a', true)).map((r) => r.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    expect(seqs.length).toBeGreaterThanOrEqual(Math.max(...reported));
  });

  it('deletes a segment once every consumer has acked it, and keeps it while one has not', async () => {
    const spool = await disk({ consumers: ['fast', 'slow'], segmentBytes: 400 });
    await appendMany(spool, 12, 100); // three records per segment
    expect(await segFiles()).toHaveLength(4);
    await spool.ack('fast', 12);
    expect(await segFiles()).toHaveLength(4);
    await spool.ack('slow', 5);
    expect(await segFiles()).toHaveLength(3); // 4 and 5 share a segment with 6
    expect(spool.stats()).toMatchObject({ segments: 3, records: 9, firstSeq: 4 });
    await spool.ack('slow', 12);
    expect(await segFiles()).toEqual(['00000000000000000010.seg']); // the one being written stays
    expect(await spool.append(1, 1, payload(13))).toBe(13);
  });

  it('reads a consumer that fell behind the memory cache from the segment files', async () => {
    const spool = await disk({ consumers: ['a'], segmentBytes: 2000, memoryCacheBytes: 1500 });
    await appendMany(spool, 30, 500);
    const got = await drain(spool, 'a', true);
    expect(got.map((r) => r.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(got.map(label)).toEqual(Array.from({ length: 30 }, (_, i) => `record-${i + 1}`));
    expect(got.every((r) => r.payload.length === 500 && r.weight === Number(label(r).slice(7)))).toBe(true);
  });
});

describe('cursors of destinations that come and go', () => {
  it('releases a cursor no longer configured: its backlog reported once, its file deleted, the segments only it held freed', async () => {
    const released: Array<[string, string, number, number]> = [];
    let spool = await disk({ consumers: ['stays', 'goes'], describe: { stays: 'prometheus http://a', goes: 'prometheus http://b' }, segmentBytes: 300 });
    for (let i = 1; i <= 10; i++) await spool.append(1, i, payload(i));
    await spool.ack('stays', 10);
    await spool.ack('goes', 4);
    await spool.close();
    const before = (await readdir(dir)).filter((f) => f.endsWith('.seg')).length;
    spool = await disk({ consumers: ['stays'], onRelease: (...r) => released.push(r), segmentBytes: 300 });
    expect(released).toEqual([['goes', 'prometheus http://b', 6, 5 + 6 + 7 + 8 + 9 + 10]]);
    expect((await readdir(dir)).filter((f) => f.endsWith('.ack'))).toEqual(['stays.ack']);
    expect((await readdir(dir)).filter((f) => f.endsWith('.seg')).length).toBeLessThan(before);
    expect(JSON.parse(await readFile(join(dir, 'consumers.json'), 'utf8'))).toEqual({ stays: 'stays' });
    await spool.close();
    released.length = 0;
    await disk({ consumers: ['stays'], onRelease: (...r) => released.push(r) });
    expect(released).toEqual([]);
  });

  it('adopts the cursor files of a spool from before the manifest by position, once', async () => {
    const old = await disk({ consumers: ['prometheus-1', 'prometheus-2'] });
    for (let i = 1; i <= 5; i++) await old.append(1, 1, payload(i));
    await old.ack('prometheus-1', 2);
    await old.ack('prometheus-2', 4);
    await old.close();
    await rm(join(dir, 'consumers.json')); // as a spool written before cursors were named by destination
    const spool = await disk({ consumers: ['dest-a', 'dest-b'], adopt: { 'dest-a': 'prometheus-1', 'dest-b': 'prometheus-2' } });
    expect(spool.position('dest-a')).toBe(2);
    expect(spool.position('dest-b')).toBe(4);
    expect((await readdir(dir)).filter((f) => f.endsWith('.ack')).sort()).toEqual(['dest-a.ack', 'dest-b.ack']);
  });

  it('refuses a second owner of the directory in one sentence, and lets the next one in once the first closed', async () => {
    const holder = spawn(process.execPath, ['--import', 'tsx', '-e', `import(${JSON.stringify(pathToFileURL(join(ROOT, 'sink', 'fanout', 'spool.ts')).href)}).then((m) => m.openDiskSpool(${JSON.stringify(dir)}, { maxBytes: 1 << 20, consumers: ['a'] })).then(() => { console.log('open'); setInterval(() => {}, 1000); })`], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve) => holder.stdout!.on('data', (c: Buffer) => c.toString().includes('open') && resolve()));
      await expect(openDiskSpool(dir, { maxBytes: 1 << 20, consumers: ['a'] })).rejects.toThrow(
        `The spool directory ${dir} is in use by sink pid ${holder.pid} (lock file ${join(dir, 'sink.lock')}); give this sink another spool directory, or stop that one.`,
      );
    } finally {
      holder.kill('SIGKILL');
      await new Promise((r) => holder.once('exit', r));
    }
    // Killed: its lock is left behind, and taken over since its pid is gone.
    await disk({ consumers: ['a'] });
  });
});
