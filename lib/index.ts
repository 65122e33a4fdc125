// The public API of promo-load-analyzer/lib, for scenarios that run inside k6.
export * from './grade.ts';
export * from './env.ts';
export * from './tags.ts';
export * from './profiles.ts';
export * from './thresholds.ts';
export * from './threshold-announce.ts';
export * from './pages.ts';
export * from './checks.ts';
export * from './cache.ts';
export * from './promo.ts';
export * from './summary.ts';
export * from './options.ts';
export * from './handle-summary.ts';
export * from './extract.ts';
export * from './journey.ts';
export * from './urls.ts';
