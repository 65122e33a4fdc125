// Where a chart's line label may go without being drawn over a line: plain geometry in
// canvas pixels, so the charts (charts.ts) and their tests share it without a browser.

/** A rectangle in canvas pixels, y growing downwards. */
export interface Box {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** A straight piece of a drawn line, from (x1, y1) to (x2, y2). */
export type Segment = readonly [x1: number, y1: number, x2: number, y2: number];

const inside = (b: Box, x: number, y: number) => x >= b.left && x <= b.right && y >= b.top && y <= b.bottom;

/** Whether the segment touches the box (Liang–Barsky clipping: some part of it lies within). */
export function segmentHitsBox([x1, y1, x2, y2]: Segment, b: Box): boolean {
  if (inside(b, x1, y1) || inside(b, x2, y2)) return true;
  const dx = x2 - x1;
  const dy = y2 - y1;
  let t0 = 0;
  let t1 = 1;
  for (const [p, q] of [
    [-dx, x1 - b.left],
    [dx, b.right - x1],
    [-dy, y1 - b.top],
    [dy, b.bottom - y1],
  ] as const) {
    if (p === 0) {
      if (q < 0) return false;
      continue;
    }
    const r = q / p;
    if (p < 0) {
      if (r > t1) return false;
      if (r > t0) t0 = r;
    } else {
      if (r < t0) return false;
      if (r < t1) t1 = r;
    }
  }
  return t0 <= t1;
}

export const boxesOverlap = (a: Box, b: Box) => a.left <= b.right && b.left <= a.right && a.top <= b.bottom && b.top <= a.bottom;

/** The segments a series is drawn with: each point to the next one that has a value (a gap is bridged, which is only ever more cautious). */
export function seriesSegments(xs: ReadonlyArray<number | null>, ys: ReadonlyArray<number | null | undefined>): Segment[] {
  const out: Segment[] = [];
  let prev: [number, number] | null = null;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    const y = ys[i];
    if (x == null || y == null || !Number.isFinite(x) || !Number.isFinite(y)) continue;
    // A lone point is drawn as a dot: a segment of no length stands for it.
    out.push(prev ? [prev[0], prev[1], x, y] : [x, y, x, y]);
    prev = [x, y];
  }
  return out;
}

/**
 * The first of `candidates` that lies within `area` and, grown by `pad` on every side,
 * touches none of `segments` and none of `taken`: null when every one does.
 */
export function freePlace(candidates: readonly Box[], area: Box, segments: readonly Segment[], taken: readonly Box[], pad: number): Box | null {
  for (const c of candidates) {
    if (c.left < area.left || c.right > area.right || c.top < area.top || c.bottom > area.bottom) continue;
    const grown = { left: c.left - pad, top: c.top - pad, right: c.right + pad, bottom: c.bottom + pad };
    if (taken.some((t) => boxesOverlap(grown, t))) continue;
    if (segments.some((s) => segmentHitsBox(s, grown))) continue;
    return c;
  }
  return null;
}

/**
 * Where a label of `width` × `height` may go beside a horizontal line at `y` across
 * `area`: just above it, then just below it, at the right end, the left end, then the
 * middle and the quarters.
 */
export function labelCandidates(area: Box, y: number, width: number, height: number, gap: number): Box[] {
  const span = area.right - area.left;
  const lefts = [area.right - gap - width, area.left + gap, area.left + (span - width) / 2, area.left + span * 0.75 - width / 2, area.left + span * 0.25 - width / 2];
  const out: Box[] = [];
  for (const left of lefts) {
    out.push({ left, right: left + width, bottom: y - gap, top: y - gap - height });
    out.push({ left, right: left + width, top: y + gap, bottom: y + gap + height });
  }
  return out;
}
