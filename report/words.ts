// Counts in words, singular when there is one: "1 VU", "2 VUs", "1 request", "1,250 requests".

export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—'} ${n === 1 ? singular : plural}`;
}
