/**
 * Preloaded into the service by the scale benchmark (node -r): keeps a
 * histogram of the event loop's delay and, on SIGUSR2, writes its maximum and
 * 99th percentile in ms to BENCH_LOOP_FILE, then starts a new one.
 */
'use strict';
const { monitorEventLoopDelay } = require('node:perf_hooks');
const { writeFileSync } = require('node:fs');

const histogram = monitorEventLoopDelay({ resolution: 10 });
histogram.enable();
process.on('SIGUSR2', () => {
  const ms = (ns) => Math.round(ns / 1e5) / 10;
  writeFileSync(
    process.env.BENCH_LOOP_FILE,
    JSON.stringify({ maxMs: ms(histogram.max), p99Ms: ms(histogram.percentile(99)) }),
  );
  histogram.reset();
});
