// The report's script and stylesheet as `npm run build` made them, read once per process.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { reportDistDir } from '../contract/dist-layout.ts';
import type { ReportAssets } from './html.ts';

let loaded: Promise<ReportAssets> | null = null;

export function loadReportAssets(): Promise<ReportAssets> {
  loaded ??= Promise.all(['report-page.js', 'report.css'].map((file) => readFile(join(reportDistDir(), file), 'utf8'))).then(
    ([script, css]) => ({ script: script!, css: css! }),
    (err: Error) => {
      loaded = null;
      throw new Error(`The report is not built (${err.message}): run npm run build.`);
    },
  );
  return loaded;
}
