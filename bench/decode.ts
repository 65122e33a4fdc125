/**
 * Decoding bench for the sink: decompress + decode of k6-shaped remote-write
 * 1.0 bodies (1,000 series × 10 labels, one sample each), single process.
 *
 *   npx tsx bench/decode.ts [requests]      (default 2,000 requests = 2M samples)
 *
 * The bodies are generated once (fixtures/k6-payloads.ts, encoded by protobufjs)
 * and written to a temporary file; every measurement then runs in a fresh
 * Node process, so one contender's garbage and JIT state cannot slow down
 * the next one (protobufjs' allocation-heavy decoding is very sensitive to
 * the heap state it inherits). Each figure is the best of several rounds
 * over all bodies, after one warm-up round.
 *
 * Prints figures only, no pass/fail.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeK6WriteRequests } from '../fixtures/k6-payloads.ts';
import { RemoteWriteDecoder } from '../sink/remote-write/decode.ts';
import { DecodedBatch } from '../sink/model/batch.ts';
import { snappyUncompress, snappyjsUncompress } from '../sink/codec/snappy.ts';
import { WriteRequest } from '../fixtures/remote-write-proto.ts';

const MAX = 64 * 1024 * 1024;

const MODES = {
  'snappy-sink': 'sink/snappy.ts into a reused scratch buffer',
  'snappy-sink-alloc': 'sink/snappy.ts, new Buffer per body',
  'snappy-snappyjs': 'snappyjs 0.7 uncompress',
  'sink-warm': 'sink decoder, warm label cache, reused batch',
  'sink-fresh-batch': 'sink decoder, warm label cache, new batch per request',
  'sink-nocache': 'sink decoder, label cache disabled (every series decoded + validated)',
  'sink-snappyjs': 'sink decoder (warm) but snappyjs for decompression',
  pbjs: 'protobufjs generic WriteRequest.decode (+ sink snappy)',
  'sink-decode-only': 'sink decoder, warm (16 decompressed bodies, cycled)',
  'pbjs-decode-only': 'protobufjs WriteRequest.decode (same 16 bodies)',
} as const;
type Mode = keyof typeof MODES;

interface ChildResult {
  mode: Mode;
  seconds: number;
  samples: number;
  outputBytes: number;
  hitRate?: number;
}

// --------------------------------------------------------------------------------------
// Child: one measurement.

function writeBodies(file: string, bodies: Buffer[]): void {
  const header = Buffer.alloc(4 + 4 * bodies.length);
  header.writeUInt32LE(bodies.length, 0);
  bodies.forEach((b, i) => header.writeUInt32LE(b.length, 4 + 4 * i));
  writeFileSync(file, Buffer.concat([header, ...bodies]));
}

function readBodies(file: string): Buffer[] {
  const all = readFileSync(file);
  const n = all.readUInt32LE(0);
  const bodies: Buffer[] = [];
  let at = 4 + 4 * n;
  for (let i = 0; i < n; i++) {
    const len = all.readUInt32LE(4 + 4 * i);
    bodies.push(Buffer.from(all.subarray(at, at + len))); // own copy, like a request body
    at += len;
  }
  return bodies;
}

function runChild(mode: Mode, file: string, rounds: number): ChildResult {
  const bodies = readBodies(file);
  const n = bodies.length;
  // Decode-only modes cycle over a few decompressed bodies: holding hundreds of MB of
  // decompressed buffers would measure memory traffic and GC pressure instead of decoding.
  const RAW = 16;
  const raw = mode.endsWith('decode-only') ? bodies.slice(0, RAW).map((b) => snappyUncompress(b, MAX)) : [];
  let sink = 0;
  let samples = 0;
  let outputBytes = 0;
  let fn: (i: number) => void;
  let decoder: RemoteWriteDecoder | undefined;
  const scratch = Buffer.alloc(1 << 20);
  const batch = new DecodedBatch();
  switch (mode) {
    case 'snappy-sink':
      fn = (i) => (sink += snappyUncompress(bodies[i], MAX, scratch).length);
      break;
    case 'snappy-sink-alloc':
      fn = (i) => (sink += snappyUncompress(bodies[i], MAX).length);
      break;
    case 'snappy-snappyjs':
      fn = (i) => (sink += snappyjsUncompress(bodies[i], MAX).length);
      break;
    case 'sink-warm':
      decoder = new RemoteWriteDecoder({ maxUncompressedBytes: MAX });
      fn = (i) => (sink += decoder!.decodeSnappy(bodies[i], 1, batch).sampleCount);
      break;
    case 'sink-fresh-batch':
      decoder = new RemoteWriteDecoder({ maxUncompressedBytes: MAX });
      fn = (i) => (sink += decoder!.decodeSnappy(bodies[i], 1).sampleCount);
      break;
    case 'sink-nocache':
      decoder = new RemoteWriteDecoder({ maxUncompressedBytes: MAX, seriesCacheSize: 0 });
      fn = (i) => (sink += decoder!.decodeSnappy(bodies[i], 1, batch).sampleCount);
      break;
    case 'sink-snappyjs':
      decoder = new RemoteWriteDecoder({ maxUncompressedBytes: MAX });
      fn = (i) => (sink += decoder!.decode(snappyjsUncompress(bodies[i], MAX), 1, batch).sampleCount);
      break;
    case 'pbjs':
      fn = (i) => {
        const msg = WriteRequest.decode(snappyUncompress(bodies[i], MAX, scratch)) as unknown as { timeseries: { samples: unknown[] }[] };
        sink += msg.timeseries.length;
      };
      break;
    case 'sink-decode-only':
      decoder = new RemoteWriteDecoder({ maxUncompressedBytes: MAX });
      fn = (i) => (sink += decoder!.decodeV1(raw[i % RAW], batch).sampleCount);
      break;
    case 'pbjs-decode-only':
      fn = (i) => {
        sink += (WriteRequest.decode(raw[i % RAW]) as unknown as { timeseries: unknown[] }).timeseries.length;
      };
      break;
  }
  // Count what one round covers (samples, uncompressed bytes), untimed.
  for (const b of bodies) outputBytes += snappyUncompress(b, MAX, scratch).length;
  const counter = new RemoteWriteDecoder({ maxUncompressedBytes: MAX });
  for (const b of bodies) samples += counter.decodeSnappy(b, 1, batch).sampleCount;

  for (let i = 0; i < n; i++) fn(i); // warm-up (JIT, label cache)
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn(i);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (s < best) best = s;
  }
  const stats = decoder?.stats;
  return {
    mode,
    seconds: best,
    samples,
    outputBytes,
    hitRate: stats && stats.cacheHits + stats.cacheMisses > 0 ? stats.cacheHits / (stats.cacheHits + stats.cacheMisses) : undefined,
  };
}

// --------------------------------------------------------------------------------------
// Parent: generate, fan out, print.

function fmt(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(0)}k` : n.toFixed(0);
}

function main(): void {
  const requests = Number(process.argv[2] ?? 2000);
  console.log(`node ${process.version} (${process.arch}); generating ${requests} k6-shaped requests (1,000 series × 10 labels, 1 sample each)…`);
  const t0 = performance.now();
  const payloads = makeK6WriteRequests({ requests, seriesPerRequest: 1000, labelsPerSeries: 10 });
  console.log(
    `  ${((performance.now() - t0) / 1000).toFixed(1)} s: ${payloads.samples} samples; per request ` +
      `${(payloads.compressedBytes / requests / 1024).toFixed(1)} KiB snappy, ${(payloads.rawBytes / requests / 1024).toFixed(1)} KiB protobuf`,
  );
  const file = join(tmpdir(), `promo-decode-bench-${process.pid}.bin`);
  writeBodies(file, payloads.bodies);
  const self = fileURLToPath(import.meta.url);
  const results = new Map<Mode, ChildResult>();
  try {
    for (const mode of Object.keys(MODES) as Mode[]) {
      const rounds = mode.startsWith('pbjs') || mode === 'sink-nocache' ? 3 : 5;
      const child = spawnSync(process.execPath, [...process.execArgv, self, '--child', mode, file, String(rounds)], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        maxBuffer: 1 << 20,
      });
      const line = child.stdout.trim().split('\n').pop() ?? '';
      if (child.status !== 0 || !line.startsWith('{')) {
        console.log(`  ${mode}: child failed (status ${child.status})`);
        continue;
      }
      results.set(mode, JSON.parse(line) as ChildResult);
    }
  } finally {
    unlinkSync(file);
  }

  const get = (m: Mode) => results.get(m);
  const perReq = (r: ChildResult) => ((r.seconds / requests) * 1e3).toFixed(3);
  console.log('\nsnappy block decompression (uncompressed output):');
  for (const m of ['snappy-sink', 'snappy-sink-alloc', 'snappy-snappyjs'] as const) {
    const r = get(m);
    if (r) console.log(`  ${MODES[m].padEnd(46)} ${(r.outputBytes / r.seconds / 1e6).toFixed(0).padStart(6)} MB/s   ${perReq(r)} ms/request`);
  }
  const ours = get('snappy-sink');
  const theirs = get('snappy-snappyjs');
  if (ours && theirs) console.log(`  ratio sink/snappyjs: ${(theirs.seconds / ours.seconds).toFixed(2)}×`);

  console.log('\ndecompress + decode (single process, best round):');
  for (const m of ['sink-warm', 'sink-fresh-batch', 'sink-snappyjs', 'sink-nocache', 'pbjs'] as const) {
    const r = get(m);
    if (!r) continue;
    const hit = r.hitRate !== undefined ? `   label-cache hits ${(r.hitRate * 100).toFixed(1)}%` : '';
    console.log(`  ${MODES[m].padEnd(72)} ${fmt(r.samples / r.seconds).padStart(7)} samples/s   ${perReq(r)} ms/request${hit}`);
  }
  const warm = get('sink-warm');
  const cold = get('sink-nocache');
  const pbjs = get('pbjs');
  if (warm && pbjs) console.log(`  ratio sink (warm) / protobufjs:      ${(pbjs.seconds / warm.seconds).toFixed(1)}×`);
  if (cold && pbjs) console.log(`  ratio sink (no cache) / protobufjs:  ${(pbjs.seconds / cold.seconds).toFixed(1)}×`);

  console.log('\ndecode only (protobuf already decompressed):');
  const d1 = get('sink-decode-only');
  const d2 = get('pbjs-decode-only');
  for (const [m, r] of [['sink-decode-only', d1], ['pbjs-decode-only', d2]] as const) {
    if (r) console.log(`  ${MODES[m].padEnd(72)} ${fmt(r.samples / r.seconds).padStart(7)} samples/s   ${perReq(r)} ms/request`);
  }
  if (d1 && d2) console.log(`  ratio sink / protobufjs:  ${(d2.seconds / d1.seconds).toFixed(1)}×`);
}

if (process.argv[2] === '--child') {
  const [, , , mode, file, rounds] = process.argv;
  console.log(JSON.stringify(runChild(mode as Mode, file, Number(rounds))));
} else {
  main();
}
