// Turns k6's `--out json` samples into http_req_duration.csv (time, value_ms, status, url).
import { createReadStream, createWriteStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { csvCell } from '../report/history-csv.ts';

export interface K6Point {
  type: 'Point';
  metric: string;
  data: { time: string; value: number; tags?: Record<string, string> };
}

/** Reads k6's JSON lines (plain or .gz) and calls back for each Point. */
export async function forEachPoint(path: string, onPoint: (p: K6Point) => void | Promise<void>): Promise<void> {
  const raw = createReadStream(path);
  const input = path.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  const lines = createInterface({ input, crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.startsWith('{"metric"') && !line.includes('"type":"Point"')) continue;
    const parsed = JSON.parse(line) as K6Point | { type: string };
    if (parsed.type === 'Point') await onPoint(parsed as K6Point);
  }
}

/**
 * One CSV for the whole run, from the samples of every k6 instance. A samples file that is
 * cut short (a k6 that did not close its output) gives its rows up to the cut, and is
 * named in `cutShort` with the reason: the CSV is a by-product, and must not cost the run
 * its outcome.
 */
export async function writeDurationCsv(samplesPaths: string | string[], csvPath: string): Promise<{ rows: number; cutShort: string[] }> {
  const out = createWriteStream(csvPath);
  out.write('time,value_ms,status,url\n');
  let rows = 0;
  const cutShort: string[] = [];
  for (const samplesPath of Array.isArray(samplesPaths) ? samplesPaths : [samplesPaths]) {
    try {
      await forEachPoint(samplesPath, async (p) => {
        if (p.metric !== 'http_req_duration') return;
        const tags = p.data.tags ?? {};
        rows++;
        if (!out.write(`${p.data.time},${p.data.value},${tags.status ?? ''},${csvCell(tags.url ?? '')}\n`)) await once(out, 'drain');
      });
    } catch (err) {
      cutShort.push(`${samplesPath} (${(err as Error).message})`);
    }
  }
  out.end();
  await once(out, 'finish');
  return { rows, cutShort };
}
