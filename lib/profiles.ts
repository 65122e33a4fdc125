// Intensity profiles: how many users, for how long, and the shape of the load.
import { type Env, k6Env, oneOf, positiveInt, duration, httpUrl, parseDurationMs, nonNegativeInt } from './env.ts';
import { INTENSITY_NAMES, type IntensityName } from './tags.ts';

export interface Profile {
  intensity: IntensityName;
  /** Steady number of VUs (TARGET_VUS). */
  vus: number;
  /** Length of the whole run (DURATION). */
  duration: string;
  /** Peak VUs of ramp-shaped runs (RAMP_MAX_VUS). */
  rampMaxVus: number;
  /** Shop under test, without a trailing slash (BASE_URL). */
  baseUrl: string;
  /** Pause between iterations, in ms (THINK_TIME_MS). */
  thinkTimeMs: number;
}

export const INTENSITIES: Record<IntensityName, Omit<Profile, 'intensity' | 'baseUrl'>> = {
  light: { vus: 5, duration: '30s', rampMaxVus: 20, thinkTimeMs: 1000 },
  medium: { vus: 25, duration: '2m', rampMaxVus: 100, thinkTimeMs: 1000 },
  heavy: { vus: 100, duration: '5m', rampMaxVus: 400, thinkTimeMs: 500 },
};

export const DEFAULT_BASE_URL = 'http://127.0.0.1:8080';

export function resolveProfile(env: Env = k6Env()): Profile {
  const intensity = oneOf(env, 'INTENSITY', INTENSITY_NAMES, 'light');
  const preset = INTENSITIES[intensity];
  return {
    intensity,
    vus: positiveInt(env, 'TARGET_VUS', preset.vus),
    duration: duration(env, 'DURATION', preset.duration),
    rampMaxVus: positiveInt(env, 'RAMP_MAX_VUS', preset.rampMaxVus),
    baseUrl: httpUrl(env, 'BASE_URL', DEFAULT_BASE_URL),
    thinkTimeMs: nonNegativeInt(env, 'THINK_TIME_MS', preset.thinkTimeMs),
  };
}

/** k6 reads Go durations; whole milliseconds keep stage splits exact. */
function ms(value: number): string {
  return `${Math.max(1, Math.round(value))}ms`;
}

export function constantLoad(profile: Profile) {
  return { executor: 'constant-vus', vus: profile.vus, duration: profile.duration } as const;
}

/** A single user, to check that the pages answer at all. */
export function smokeLoad(profile: Profile) {
  return { executor: 'constant-vus', vus: 1, duration: profile.duration } as const;
}

/** Up to RAMP_MAX_VUS over 60% of the run, hold 30%, down over 10%. */
export function rampLoad(profile: Profile) {
  const total = parseDurationMs(profile.duration)!;
  return {
    executor: 'ramping-vus',
    startVUs: 0,
    stages: [
      { duration: ms(total * 0.6), target: profile.rampMaxVus },
      { duration: ms(total * 0.3), target: profile.rampMaxVus },
      { duration: ms(total * 0.1), target: 0 },
    ],
    gracefulRampDown: '5s',
  } as const;
}
