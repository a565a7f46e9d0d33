/**
 * Preloaded into the service by the scale benchmark (node -r): every 100 ms,
 * appends the worst event-loop delay of that window (ms) with the time to
 * BENCH_LOOP_FILE, one JSON line each. No signal is used: the service's own
 * shutdown hooks listen to them.
 */
'use strict';
const { monitorEventLoopDelay } = require('node:perf_hooks');
const { appendFileSync } = require('node:fs');

const histogram = monitorEventLoopDelay({ resolution: 5 });
histogram.enable();
setInterval(() => {
  const maxMs = Math.round(histogram.max / 1e5) / 10;
  appendFileSync(process.env.BENCH_LOOP_FILE, `${JSON.stringify({ at: Date.now(), maxMs })}\n`);
  histogram.reset();
}, 100).unref();
