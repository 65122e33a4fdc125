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
    // As base64, not a list of numbers: a list of a million numbers takes seconds to pass back.
    const data = ctx.getImageData(0, 0, img.width, img.height).data;
    let binary = '';
    for (let i = 0; i < data.length; i += 0x8000) binary += String.fromCharCode(...data.subarray(i, i + 0x8000));
    return btoa(binary);
  }, png.toString('base64'));
  return new Uint8Array(Buffer.from(bytes, 'base64'));
}
