// `report --pdf`: the report printed to A4 by headless Chromium (the charts are drawn by
// the report's script before it prints). Chromium is the Debian package; CHROMIUM_BIN
// names another.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CliError } from './args.ts';

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';
const PRINT_TIMEOUT_MS = 60_000;

export function chromiumBinary(env: NodeJS.ProcessEnv = process.env): string {
  const bin = env.CHROMIUM_BIN || DEFAULT_CHROMIUM;
  if (!existsSync(bin)) throw new CliError(`--pdf needs Chromium, and there is none at ${bin}: install the Debian package chromium, or set CHROMIUM_BIN to its path.`);
  return bin;
}

export async function printToPdf(htmlPath: string, pdfPath: string): Promise<void> {
  const bin = chromiumBinary();
  const profile = mkdtempSync(join(tmpdir(), 'promo-pdf-'));
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-background-networking',
    '--disable-gpu',
    `--user-data-dir=${profile}`,
    '--no-pdf-header-footer',
    // Lets the page's script draw the charts before the page is printed.
    '--virtual-time-budget=10000',
    `--print-to-pdf=${resolve(pdfPath)}`,
    pathToFileURL(resolve(htmlPath)).href,
  ];
  try {
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((done, fail) => {
      const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), PRINT_TIMEOUT_MS);
      child.on('error', fail);
      child.on('exit', (exitCode) => {
        clearTimeout(timer);
        done({ code: exitCode, stderr });
      });
    });
    if (code !== 0 || !existsSync(pdfPath) || statSync(pdfPath).size === 0) {
      throw new CliError(`Chromium could not print ${htmlPath} to PDF (exit ${code}): ${stderr.trim().split('\n').at(-1) ?? ''}`);
    }
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}
