// The project's one definition of the grade. Pure: no k6 and no Node imports,
// so the k6 scenarios, the CLI and the sink all run the very same code.

export type Letter = 'A' | 'B' | 'C' | 'D' | 'F';
export type GradeLetter = Letter | 'N/A';
export type Colour = 'green' | 'orange' | 'red' | 'grey';

/** A band is a piecewise-linear curve: [input, score] points with increasing inputs. */
export type Band = ReadonlyArray<readonly [number, number]>;

export interface GradeBands {
  /** p95 of http_req_duration in ms → score. */
  latency: Band;
  /** failed / total requests → score. */
  errors: Band;
  /** Lowest score for each letter, best letter first. */
  letters: ReadonlyArray<readonly [Letter, number]>;
}

export const DEFAULT_BANDS: GradeBands = {
  latency: [
    [0, 100],
    [500, 100],
    [1000, 90],
    [2000, 70],
    [3000, 50],
    [5000, 20],
    [10000, 0],
  ],
  errors: [
    [0, 100],
    [0.0001, 100],
    [0.001, 90],
    [0.01, 70],
    [0.05, 40],
    [0.1, 0],
  ],
  letters: [
    ['A', 90],
    ['B', 80],
    ['C', 70],
    ['D', 50],
    ['F', -Infinity],
  ],
};

export interface GradeInput {
  /** p95 of http_req_duration in milliseconds. */
  p95Ms: number;
  /** failed / total, between 0 and 1. */
  errorRatio: number;
  /** Number of requests; 0 gives N/A. Omit when unknown but non-zero. */
  requests?: number;
}

export interface Grade {
  letter: GradeLetter;
  /** floor(min(latencyScore, errorScore)); null for N/A. */
  score: number | null;
  colour: Colour;
  latencyScore: number | null;
  errorScore: number | null;
  /** Why the grade is N/A; absent otherwise. */
  reason?: string;
}

/** Value of a piecewise-linear band at x; 0 beyond the last point. */
export function bandScore(band: Band, x: number): number {
  const first = band[0];
  if (first === undefined) throw new Error('A grade band needs at least one point.');
  if (x <= first[0]) return first[1];
  for (let i = 1; i < band.length; i++) {
    const [x1, y1] = band[i]!;
    if (x <= x1) {
      const [x0, y0] = band[i - 1]!;
      return y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
    }
  }
  return 0;
}

export function latencyScore(p95Ms: number, bands: GradeBands = DEFAULT_BANDS): number {
  return bandScore(bands.latency, p95Ms);
}

export function errorScore(errorRatio: number, bands: GradeBands = DEFAULT_BANDS): number {
  return bandScore(bands.errors, errorRatio);
}

export function letterFor(score: number, bands: GradeBands = DEFAULT_BANDS): Letter {
  for (const [letter, min] of bands.letters) if (score >= min) return letter;
  return 'F';
}

export function colourFor(letter: GradeLetter): Colour {
  if (letter === 'A') return 'green';
  if (letter === 'B' || letter === 'C') return 'orange';
  if (letter === 'N/A') return 'grey';
  return 'red';
}

export function notApplicable(reason: string): Grade {
  return { letter: 'N/A', score: null, colour: 'grey', latencyScore: null, errorScore: null, reason };
}

export function grade(input: GradeInput, bands: GradeBands = DEFAULT_BANDS): Grade {
  if (input.requests === 0) return notApplicable('no requests');
  if (!Number.isFinite(input.p95Ms) || input.p95Ms < 0) return notApplicable('no p95 of http_req_duration');
  if (!Number.isFinite(input.errorRatio) || input.errorRatio < 0) return notApplicable('no error ratio');
  const lat = latencyScore(input.p95Ms, bands);
  const err = errorScore(input.errorRatio, bands);
  const score = Math.floor(Math.min(lat, err));
  const letter = letterFor(score, bands);
  return { letter, score, colour: colourFor(letter), latencyScore: lat, errorScore: err };
}

/** "A (97/100)", or "N/A". */
export function formatGrade(g: Grade): string {
  return g.score === null ? 'N/A' : `${g.letter} (${g.score}/100)`;
}

/** Largest input at which a band still scores at least minScore (bands only fall). */
export function bandLimit(band: Band, minScore: number): number {
  let limit = band[0]![0];
  for (let i = 1; i < band.length; i++) {
    const [x0, y0] = band[i - 1]!;
    const [x1, y1] = band[i]!;
    if (y1 >= minScore) {
      limit = x1;
      continue;
    }
    if (y0 >= minScore) limit = y0 === y1 ? x0 : x0 + ((y0 - minScore) * (x1 - x0)) / (y0 - y1);
    break;
  }
  return limit;
}

/** The p95 (ms) and error ratio a run may reach and still earn `letter`. */
export function limitsFor(letter: Letter, bands: GradeBands = DEFAULT_BANDS): { p95Ms: number; errorRatio: number } {
  const entry = bands.letters.find(([l]) => l === letter);
  if (!entry) throw new Error(`Unknown grade letter ${letter}; use one of ${bands.letters.map(([l]) => l).join(', ')}.`);
  const min = entry[1];
  return { p95Ms: bandLimit(bands.latency, min), errorRatio: bandLimit(bands.errors, min) };
}
