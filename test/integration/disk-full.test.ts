// Whole or not at all, on a disk that fills up (issue 23, item 4): the sink's spool and
// history on a 2 MiB tmpfs. Every write the sink answered 2xx is in the spool and graded;
// every write it answered 5xx is in neither, nor counted; a finish whose history line could
// not be written is not marked written, leaves no torn line, and is written once there is
// room again; a restart finds no torn line and no torn spool record.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { buildApp, type SinkApp } from '../../sink/app.ts';
import { openDiskSpool } from '../../sink/fanout/spool.ts';
import { RemoteWriteDecoder } from '../../sink/remote-write/decode.ts';
import { label } from '../../sink/model/labels.ts';
import { compress, encodeV1, type TimeSeriesObj } from '../../fixtures/remote-write-proto.ts';
import { metricSum } from '../../fixtures/services.ts';

const SERIES_PER_WRITE = 200;
const T = Date.UTC(2026, 10, 27, 8, 0, 0);
const asRoot = process.getuid?.() === 0;

let mnt = '';
beforeAll(() => {
  // A real full disk needs a file system to fill: without root, one sentence, as for any missing part (SKIP_INTEGRATION=1 skips it with the other integration tests).
  if (!asRoot) throw new Error('test/integration/disk-full.test.ts needs root: it mounts a 2 MiB tmpfs to fill (CI runs the tests as root; or set SKIP_INTEGRATION=1).');
  mnt = mkdtempSync(join(tmpdir(), 'pla-disk-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt]);
});
/** Sinks still open when a test fails: closed before the unmount, which they would keep busy. */
const openSinks = new Set<SinkApp>();
afterAll(async () => {
  if (!mnt) return;
  for (const app of openSinks) await app.close().catch(() => {});
  execFileSync('umount', [mnt]);
  rmSync(mnt, { recursive: true, force: true });
});

/** A write of its own run: SERIES_PER_WRITE series with random (incompressible) url values, ~40 KiB. */
function writeBody(testid: string): Buffer {
  const timeseries: TimeSeriesObj[] = Array.from({ length: SERIES_PER_WRITE }, () => ({
    labels: [
      { name: '__name__', value: 'k6_http_reqs_total' },
      { name: 'testid', value: testid },
      { name: 'url', value: `/p/${randomBytes(100).toString('hex')}` },
    ],
    samples: [{ value: 1, timestamp: T }],
  }));
  return compress(encodeV1({ timeseries }));
}

const BIG_TAGS = Object.fromEntries(Array.from({ length: 32 }, (_, k) => [`tag_${k}`, 'v'.repeat(256)]));

function sink(warnings: string[] = []): SinkApp {
  const app = buildApp({
    config: { spoolDir: join(mnt, 'spool'), historyFile: join(mnt, 'history.jsonl'), prometheusUrls: ['http://127.0.0.1:1/api/v1/write'] },
    decodeWorker: false,
    drainTimeoutMs: 0,
    logger: { level: 'warn', stream: new Writable({ write: (c, _e, done) => (warnings.push((JSON.parse(String(c)) as { msg: string }).msg), done()) }) },
  });
  openSinks.add(app);
  app.addHook('onClose', async () => void openSinks.delete(app));
  return app;
}

/** Fills the file system to the last byte, then frees one page: room for part of a line, not all of it. */
async function fillAllButOnePage(path: string): Promise<void> {
  const fh = await open(path, 'w');
  const page = Buffer.alloc(4096, 1);
  let size = 0;
  try {
    for (;;) size += (await fh.write(page)).bytesWritten;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  }
  await fh.truncate(Math.max(0, size - (size % 4096) - 4096));
  await fh.close();
}

function lines(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n');
}

describe('a disk that fills up (a 2 MiB tmpfs)', () => {
  it('keeps and grades every 2xx write and nothing of a 5xx one, and leaves no torn history line, before and after a restart', async () => {
    const app = sink();
    await app.ready();
    const reg = (testid: string) => app.inject({ method: 'POST', url: '/api/runs', payload: { testid, scenario: 'promo', tags: BIG_TAGS } });
    const finish = (testid: string) => app.inject({ method: 'POST', url: `/api/runs/${testid}/finish`, payload: { exitCode: 0 } });
    const before = 'before_20261127_080000_00000001';
    await reg(before);
    expect((await finish(before)).statusCode).toBe(200);

    const replies = new Map<string, { status: number; body: unknown }>();
    for (let i = 0, refused = 0; refused < 3 && i < 300; i++) {
      const testid = `disk_${i}`;
      const res = await app.inject({ method: 'POST', url: '/api/v1/write', payload: writeBody(testid), headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' } });
      replies.set(testid, { status: res.statusCode, body: res.statusCode === 204 ? null : res.json() });
      if (res.statusCode !== 204) refused++;
    }
    const accepted = [...replies].filter(([, r]) => r.status === 204).map(([t]) => t);
    const refused = [...replies].filter(([, r]) => r.status !== 204).map(([t]) => t);
    expect(accepted.length).toBeGreaterThan(10);
    expect(refused).toHaveLength(3);

    // Graded: every accepted write's run, and nothing of a refused one, nor in the counters.
    expect(accepted.filter((t) => app.sink.runs.run(t) === undefined)).toEqual([]);
    expect(refused.filter((t) => app.sink.runs.run(t) !== undefined)).toEqual([]);
    for (const testid of refused) {
      expect(replies.get(testid)).toEqual({
        status: 503,
        body: { code: 'SINK_ERR_SPOOL_WRITE_FAILED', message: expect.stringMatching(/^The sink could not keep the request in its spool \(.+\), so it took none of it; send it again\.$/) },
      });
    }
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metricSum(metrics, 'sink_samples_received_total')).toBe(accepted.length * SERIES_PER_WRITE);
    expect(metricSum(metrics, 'sink_rejected_requests_total', { reason: 'SINK_ERR_SPOOL_WRITE_FAILED' })).toBe(3);

    // The end of a run on a full disk: refused, not marked written, and no torn line.
    await fillAllButOnePage(join(mnt, 'filler'));
    const during = 'during_20261127_080000_00000002';
    await reg(during);
    const refusedFinish = await finish(during);
    expect({ status: refusedFinish.statusCode, body: refusedFinish.json() }).toEqual({
      status: 503,
      body: {
        code: 'SINK_ERR_HISTORY_WRITE_FAILED',
        message: `The end of run "${during}" could not be written to the history (ENOSPC); the sink tries again every second, and the run is not finished until it is written.`,
      },
    });
    expect(app.sink.control.registrations.get(during)!.finishedAt).toBeNull();
    expect(lines(join(mnt, 'history.jsonl')).map((l) => (JSON.parse(l) as { testid: string }).testid)).toEqual([before]);

    // Room again: the end of the run is written within a few seconds, once.
    await rm(join(mnt, 'filler'));
    await vi.waitFor(() => expect(app.sink.control.registrations.get(during)!.finishedAt).not.toBeNull(), { timeout: 5000 });
    expect(lines(join(mnt, 'history.jsonl')).map((l) => (JSON.parse(l) as { testid: string }).testid)).toEqual([before, during]);
    const consumers = app.sink.fanOut!.names;
    await app.close();

    // In the spool: exactly the accepted writes.
    const spool = await openDiskSpool(join(mnt, 'spool'), { maxBytes: 1 << 30, consumers });
    const records = await spool.read(consumers[0]!, 10_000, 1 << 30);
    await spool.close();
    const decoder = new RemoteWriteDecoder();
    const spooled = records.map((r) => label(decoder.decodeSnappy(r.payload, 1).series[0]!, 'testid'));
    expect(spooled).toEqual(accepted);

    // A restart: no torn line, no torn record, the history whole.
    const warnings: string[] = [];
    const again = sink(warnings);
    await again.ready();
    expect(again.sink.history!.list().map((e) => e.testid)).toEqual([before, during]);
    expect(again.sink.fanOut!.spool.stats()).toMatchObject({ tornTails: 0, corruptions: 0, records: accepted.length });
    expect(warnings.filter((w) => /torn|cut short|corrupt/i.test(w))).toEqual([]);
    await again.close();
  });
});
