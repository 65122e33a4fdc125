// The decode worker thread (dist/sink/decode-worker.js): the remote-write decoder serves
// the write route's bodies (remote-write/decode-worker.ts), and the same thread builds the
// fan-out's request bodies that need a spooled record decoded (fanout/bodies.ts), so that
// neither runs on the event loop. It composes the two stages as app.ts does: neither
// imports the other.
import { parentPort, workerData } from 'node:worker_threads';
import { serveDecodeRequests } from './remote-write/decode-worker.ts';
import type { DecodeWorkerData } from './remote-write/decode-pool.ts';
import { encodeJob, replayEncoder } from './off-loop-bodies.ts';

const bodies = replayEncoder();
serveDecodeRequests(parentPort!, workerData as DecodeWorkerData, (job) => encodeJob(job, bodies));
