// What a page's uPlot charts show, read in Chromium: each scale against the data on it
// (from the uPlot instances themselves), and whether any text on a chart's canvas is drawn
// over a line (from screenshots of it drawn three ways: as is, without text, without
// series). The status page and the report expose their charts as window.promoCharts and
// window.promoTrend.
import type { Page } from 'playwright-core';

export interface ScaleRange {
  /** The chart (users, latency, errors, rps, trend) and the scale's key. */
  chart: string;
  scale: string;
  min: number;
  max: number;
  /** The smallest and largest value of the series drawn on the scale (x: the x values). */
  dataMin: number;
  dataMax: number;
}

/** Every scale of every chart on the page that has data, with its data's range. */
export function chartScales(page: Page): Promise<ScaleRange[]> {
  return page.evaluate(() => {
    type U = { data: Array<Array<number | null>>; series: Array<{ scale?: string; show?: boolean }>; scales: Record<string, { min?: number; max?: number }> };
    const w = window as unknown as { promoCharts?: { charts: Record<string, U> }; promoTrend?: { chart: { chart: U } } };
    const charts: Array<[string, U]> = [...Object.entries(w.promoCharts?.charts ?? {}), ...(w.promoTrend ? [['trend', w.promoTrend.chart.chart] as [string, U]] : [])];
    const out: Array<{ chart: string; scale: string; min: number; max: number; dataMin: number; dataMax: number }> = [];
    for (const [chart, u] of charts) {
      const byScale = new Map<string, number[]>();
      u.series.forEach((s, i) => {
        if (s.show === false) return;
        const key = i === 0 ? 'x' : (s.scale ?? 'y');
        const values = (u.data[i] ?? []).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
        byScale.set(key, [...(byScale.get(key) ?? []), ...values]);
      });
      for (const [scale, values] of byScale) {
        if (values.length === 0) continue;
        out.push({ chart, scale, min: u.scales[scale]!.min!, max: u.scales[scale]!.max!, dataMin: Math.min(...values), dataMax: Math.max(...values) });
      }
    }
    return out;
  });
}

export interface LabelCheck {
  /** The boxes of text drawn inside the plot (canvas pixels): the lines' labels. */
  labels: Array<{ left: number; top: number; right: number; bottom: number }>;
  /** One sentence per label drawn over a line. */
  overlaps: string[];
}

/**
 * Whether text on chart `name`'s canvas covers a line. Three screenshots of the canvas:
 * as drawn (A); with canvas text switched off (B); with text off and every series
 * transparent (C). Inside the plot, A≠B is text and B≠C the series' lines and points;
 * the rows of C where most of the plot's width is ink are the horizontal limit lines.
 * Each cluster of text pixels is a label: its box must hold no line pixel and no limit
 * line row. `decoder` is a page that may load data: images (the status page's CSP forbids them).
 */
export async function labelsOverLines(page: Page, name: string, decoder: Page, chartsGlobal: 'promoCharts' = 'promoCharts'): Promise<LabelCheck> {
  const canvas = page.locator(`[data-chart="${name}"] canvas`).first();
  const set = (mode: 'as drawn' | 'no text' | 'no text, no series') =>
    page.evaluate(
      ([chart, global, m]) => {
        type Series = { stroke: unknown; points?: { stroke: unknown; fill: unknown }; __saved?: unknown[] };
        const u = (window as unknown as Record<string, { charts: Record<string, { series: Series[]; redraw: (a?: boolean, b?: boolean) => void }> }>)[global]!.charts[chart]!;
        const proto = CanvasRenderingContext2D.prototype as unknown as { fillText: unknown; __fillText?: unknown };
        proto.__fillText ??= proto.fillText;
        proto.fillText = m === 'as drawn' ? proto.__fillText : () => {};
        const clear = () => 'rgba(0,0,0,0)';
        u.series.forEach((s, i) => {
          if (i === 0) return;
          s.__saved ??= [s.stroke, s.points?.stroke, s.points?.fill];
          const [stroke, pointStroke, pointFill] = s.__saved;
          const hide = m === 'no text, no series';
          s.stroke = hide ? clear : stroke;
          if (s.points) {
            s.points.stroke = hide ? clear : pointStroke;
            s.points.fill = hide ? clear : pointFill;
          }
        });
        u.redraw(false, false);
      },
      [name, chartsGlobal, mode] as const,
    );
  const shot = async () => (await canvas.screenshot({ animations: 'disabled' })).toString('base64');
  await set('as drawn');
  const a = await shot();
  await set('no text');
  const b = await shot();
  await set('no text, no series');
  const c = await shot();
  await set('as drawn');
  const bbox = await page.evaluate(
    ([chart, global]) => {
      const u = (window as unknown as Record<string, { charts: Record<string, { bbox: { left: number; top: number; width: number; height: number } }> }>)[global]!.charts[chart]!;
      const dpr = devicePixelRatio;
      return { left: u.bbox.left / dpr, top: u.bbox.top / dpr, width: u.bbox.width / dpr, height: u.bbox.height / dpr };
    },
    [name, chartsGlobal] as const,
  );
  // The pixels are compared where Chromium decodes them, in the decoder page: only the verdict comes back.
  const { labels, overlaps } = await decoder.evaluate(
    async ({ pngs, box, chart }) => {
      const pixels = await Promise.all(
        pngs.map(async (b64) => {
          const img = new Image();
          img.src = `data:image/png;base64,${b64}`;
          await img.decode();
          const canvas = document.createElement('canvas');
          canvas.width = img.width;
          canvas.height = img.height;
          const ctx = canvas.getContext('2d')!;
          ctx.drawImage(img, 0, 0);
          return { w: img.width, data: ctx.getImageData(0, 0, img.width, img.height).data };
        }),
      );
      const [pa, pb, pc] = pixels as [{ w: number; data: Uint8ClampedArray }, { w: number; data: Uint8ClampedArray }, { w: number; data: Uint8ClampedArray }];
      const w = pa.w;
      /** A pixel that changed between two renderings of the same canvas. */
      const differs = (x: Uint8ClampedArray, y: Uint8ClampedArray, i: number) => Math.abs(x[i]! - y[i]!) + Math.abs(x[i + 1]! - y[i + 1]!) + Math.abs(x[i + 2]! - y[i + 2]!) > 60;
      /** Ink of a line: dark or saturated, not the white plot nor uPlot's faint grid. */
      const ink = (x: Uint8ClampedArray, i: number) => Math.max(x[i]!, x[i + 1]!, x[i + 2]!) < 170 || Math.max(x[i]!, x[i + 1]!, x[i + 2]!) - Math.min(x[i]!, x[i + 1]!, x[i + 2]!) > 80;
      const [x0, y0, x1, y1] = [Math.ceil(box.left), Math.ceil(box.top), Math.floor(box.left + box.width) - 1, Math.floor(box.top + box.height) - 1];
      const text = new Set<number>();
      const line = new Set<number>();
      for (let y = y0; y <= y1; y++) {
        for (let x = x0; x <= x1; x++) {
          const i = (y * w + x) * 4;
          if (differs(pa.data, pb.data, i)) text.add(y * w + x);
          if (differs(pb.data, pc.data, i)) line.add(y * w + x);
        }
      }
      const limitRows: number[] = [];
      for (let y = y0; y <= y1; y++) {
        let n = 0;
        for (let x = x0; x <= x1; x++) if (ink(pc.data, (y * w + x) * 4)) n++;
        if (n > 0.4 * (x1 - x0)) limitRows.push(y);
      }
      // Letters of one label lie a few pixels apart: join text pixels within 8 across and 3 down.
      const found: Array<{ left: number; top: number; right: number; bottom: number }> = [];
      const seen = new Set<number>();
      for (const start of text) {
        if (seen.has(start)) continue;
        seen.add(start);
        const label = { left: start % w, right: start % w, top: Math.floor(start / w), bottom: Math.floor(start / w) };
        const queue = [start];
        while (queue.length > 0) {
          const p = queue.pop()!;
          const [px, py] = [p % w, Math.floor(p / w)];
          label.left = Math.min(label.left, px);
          label.right = Math.max(label.right, px);
          label.top = Math.min(label.top, py);
          label.bottom = Math.max(label.bottom, py);
          for (let dy = -3; dy <= 3; dy++) {
            for (let dx = -8; dx <= 8; dx++) {
              const q = (py + dy) * w + px + dx;
              if (text.has(q) && !seen.has(q)) {
                seen.add(q);
                queue.push(q);
              }
            }
          }
        }
        found.push(label);
      }
      const problems: string[] = [];
      for (const l of found) {
        // Line pixels in the label's box, a pixel around it included; under the text they changed too.
        let covered = 0;
        for (let y = l.top - 1; y <= l.bottom + 1; y++) for (let x = l.left - 1; x <= l.right + 1; x++) if (line.has(y * w + x)) covered++;
        const rows = limitRows.filter((y) => y >= l.top - 1 && y <= l.bottom + 1);
        if (covered > 0 || rows.length > 0) problems.push(`${chart}: text at x ${l.left}–${l.right}, y ${l.top}–${l.bottom} covers ${covered} pixels of a series${rows.length > 0 ? ` and the limit line at y ${rows[0]}` : ''}`);
      }
      return { labels: found, overlaps: problems };
    },
    { pngs: [a, b, c], box: bbox, chart: name },
  );
  return { labels, overlaps };
}

/**
 * Draws a word over the middle point of the chart's first series (a hook run after every
 * draw), so a test can show that labelsOverLines sees text over a line. Returns a function
 * that takes it away again.
 */
export async function drawTextOverALine(page: Page, name: string): Promise<() => Promise<void>> {
  await page.evaluate((chart) => {
    type U = { data: Array<Array<number | null>>; ctx: CanvasRenderingContext2D; hooks: { draw?: Array<(u: U) => void> }; valToPos: (v: number, k: string, c: boolean) => number; redraw: (a?: boolean, b?: boolean) => void };
    const u = (window as unknown as { promoCharts: { charts: Record<string, U> } }).promoCharts.charts[chart]!;
    const marker = (self: U) => {
      const xs = self.data[0]!;
      const ys = self.data[1]!;
      const i = ys.findIndex((v, k) => v != null && k >= Math.floor(ys.length / 2));
      self.ctx.save();
      self.ctx.font = `${12 * devicePixelRatio}px sans-serif`;
      self.ctx.fillStyle = '#000';
      self.ctx.textAlign = 'center';
      self.ctx.textBaseline = 'middle';
      self.ctx.fillText('OVER THE LINE', self.valToPos(xs[i]!, 'x', true), self.valToPos(ys[i]!, 'y', true));
      self.ctx.restore();
    };
    (marker as unknown as { testMarker: boolean }).testMarker = true;
    (u.hooks.draw ??= []).push(marker);
    u.redraw(false, false);
  }, name);
  return () =>
    page.evaluate((chart) => {
      type U = { hooks: { draw?: Array<{ testMarker?: boolean }> }; redraw: (a?: boolean, b?: boolean) => void };
      const u = (window as unknown as { promoCharts: { charts: Record<string, U> } }).promoCharts.charts[chart]!;
      u.hooks.draw = (u.hooks.draw ?? []).filter((f) => !f.testMarker);
      u.redraw(false, false);
    }, name);
}
