// Debian's Chromium for the page tests, headless, with nothing of its own on the network.
import type { Page } from 'playwright-core';

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-gpu', '--no-first-run', '--disable-component-update', '--disable-sync'];

/** A PNG's pixels as RGBA bytes, decoded by Chromium itself in `page` (any page will do). */
export async function pngPixels(page: Page, png: Buffer): Promise<Uint8Array> {
  const bytes = await page.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = img.width;
    canvas.height = img.height;
    const ctx = canvas.getContext('2d')!;
    ctx.drawImage(img, 0, 0);
    return Array.from(ctx.getImageData(0, 0, img.width, img.height).data);
  }, png.toString('base64'));
  return Uint8Array.from(bytes);
}
