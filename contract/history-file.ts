// The history file's format, which the sink writes and the CLI reads offline: one JSON
// line per finished run (HistoryEntry). A crash in the middle of a write can leave a
// torn last line; reading skips it with a warning.
import { readFile } from 'node:fs/promises';
import type { HistoryEntry } from './sink-api.ts';

function isEntry(value: unknown): value is HistoryEntry {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return typeof v.testid === 'string' && v.testid !== '' && typeof v.endedAt === 'string' && typeof v.grade === 'object' && v.grade !== null;
}

export interface ReadResult {
  entries: HistoryEntry[];
  /** False when the file is missing, empty or already ends with '\n'. */
  tornTail: boolean;
}

/**
 * Reads a history file without creating anything; a missing file is an empty history.
 * A line that does not parse is skipped with one warning naming its line number; the
 * last line, when the file does not end with '\n', is a write cut short by a crash.
 */
export async function readHistory(path: string, log: (line: string) => void = () => {}): Promise<ReadResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], tornTail: false };
    throw err;
  }
  const lines = text.split('\n');
  // After a final '\n' split() gives one empty string: nothing torn.
  const tail = lines.pop()!;
  const entries: HistoryEntry[] = [];
  const parse = (line: string): HistoryEntry | null => {
    try {
      const value: unknown = JSON.parse(line);
      return isEntry(value) ? value : null;
    } catch {
      return null;
    }
  };
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const entry = parse(line);
    if (entry) entries.push(entry);
    else log(`history ${path}: line ${i + 1} is not a run summary; skipped it.`);
  });
  let tornTail = false;
  if (tail !== '') {
    tornTail = true;
    // The bytes of a whole line may have landed without their '\n'; keep such a line.
    const entry = parse(tail);
    if (entry) entries.push(entry);
    else log(`history ${path}: the last line (line ${lines.length + 1}) was cut short, probably by a crash during a write; skipped it.`);
  }
  return { entries, tornTail };
}
