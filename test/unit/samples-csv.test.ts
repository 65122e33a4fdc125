// k6's --out json samples into http_req_duration.csv: a samples file cut short (a k6 that
// did not close its gzip output) gives its rows up to the cut and is named, never a crash
// that costs the run its outcome.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { writeDurationCsv } from '../../cli/samples-csv.ts';

const point = (i: number) => JSON.stringify({ metric: 'http_req_duration', type: 'Point', data: { time: `2026-12-06T18:00:${String(i % 60).padStart(2, '0')}Z`, value: i, tags: { status: '200', url: `http://shop.test/p/${i}` } } });

describe('writeDurationCsv', () => {
  it('keeps the rows before the cut of a samples file cut short, names it, and still writes the other files whole', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pla-samples-csv-'));
    try {
      const whole = gzipSync(Array.from({ length: 2000 }, (_, i) => point(i)).join('\n') + '\n');
      writeFileSync(join(dir, 'a.json.gz'), whole);
      writeFileSync(join(dir, 'b.json.gz'), whole.subarray(0, Math.floor(whole.length / 2)));
      writeFileSync(join(dir, 'c.json'), `${point(7)}\n`);
      const csv = join(dir, 'out.csv');
      const { rows, cutShort } = await writeDurationCsv([join(dir, 'a.json.gz'), join(dir, 'b.json.gz'), join(dir, 'c.json')], csv);
      expect(cutShort).toEqual([`${join(dir, 'b.json.gz')} (unexpected end of file)`]);
      const lines = readFileSync(csv, 'utf8').trimEnd().split('\n');
      expect(lines[0]).toBe('time,value_ms,status,url');
      expect(lines.length - 1).toBe(rows);
      // All of a, part of b, all of c.
      expect(rows).toBeGreaterThan(2001);
      expect(rows).toBeLessThan(4001);
      expect(lines.at(-1)).toBe('2026-12-06T18:00:07Z,7,200,http://shop.test/p/7');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
