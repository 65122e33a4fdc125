// docs/errors.md and the catalogue in sink/errors.ts must list the same codes with
// the same HTTP statuses, in both directions.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SinkErrors } from '../../sink/errors.ts';

const DOC = new URL('../../docs/errors.md', import.meta.url);

interface DocRow {
  code: string;
  status: number;
  when: string;
}

/** Table rows whose first cell is a SINK_ERR_* code: `| \`CODE\` | 400 | when |`. */
function docRows(markdown: string): { rows: DocRow[]; unparsed: string[] } {
  const rows: DocRow[] = [];
  const unparsed: string[] = [];
  for (const line of markdown.split('\n')) {
    if (!line.trimStart().startsWith('|') || !line.includes('SINK_ERR_')) continue;
    const m = /^\s*\|\s*`?(SINK_ERR_[A-Z0-9_]+)`?\s*\|\s*(\d{3})\s*\|(.*)\|\s*$/.exec(line);
    if (m) rows.push({ code: m[1], status: Number(m[2]), when: m[3].trim() });
    else unparsed.push(line);
  }
  return { rows, unparsed };
}

function cataloguePairs(): string[] {
  return Object.values(SinkErrors).map((ErrorClass) => {
    const err = new ErrorClass('detail');
    return `${err.code} ${err.statusCode}`;
  });
}

describe('docs/errors.md', () => {
  const { rows, unparsed } = docRows(readFileSync(DOC, 'utf8'));

  it('has a parseable table row for every line that mentions an error code in a table', () => {
    expect(unparsed).toEqual([]);
    expect(rows.length).toBeGreaterThan(0);
  });

  it('lists every code of the catalogue with its HTTP status', () => {
    const documented = new Set(rows.map((r) => `${r.code} ${r.status}`));
    const missingFromDoc = cataloguePairs().filter((pair) => !documented.has(pair));
    expect(missingFromDoc).toEqual([]);
  });

  it('lists no code or status that the catalogue does not have', () => {
    const catalogued = new Set(cataloguePairs());
    const notInCatalogue = rows.map((r) => `${r.code} ${r.status}`).filter((pair) => !catalogued.has(pair));
    expect(notInCatalogue).toEqual([]);
  });

  it('lists each code once, each with a sentence saying when it happens', () => {
    const codes = rows.map((r) => r.code);
    expect(codes.filter((c, i) => codes.indexOf(c) !== i)).toEqual([]);
    expect(rows.filter((r) => r.when.length < 10).map((r) => r.code)).toEqual([]);
  });

  it('uses only catalogue codes whose statuses match the documented policy', () => {
    // 5xx is kept for faults that are not the request's; everything about the data is 4xx.
    const serverErrors = rows.filter((r) => r.status >= 500).map((r) => r.code).sort();
    expect(serverErrors).toEqual(['SINK_ERR_HISTORY_WRITE_FAILED', 'SINK_ERR_INTERNAL', 'SINK_ERR_SERIES_UNREADABLE', 'SINK_ERR_SHUTTING_DOWN', 'SINK_ERR_SPOOL_WRITE_FAILED']);
  });
});
