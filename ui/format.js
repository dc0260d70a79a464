// Times and durations, for display.
export const TERMINAL = new Set(['Succeeded', 'Failed', 'Cancelled']);

export function ms(iso) {
  if (!iso) return NaN;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? NaN : t;
}

// duration(startIso, endIso, now): milliseconds from start to end (or to
// now while there is no end); NaN without a start.
export function duration(start, end, now = Date.now()) {
  const a = ms(start);
  if (Number.isNaN(a)) return NaN;
  const b = end ? ms(end) : now;
  return Number.isNaN(b) ? NaN : Math.max(0, b - a);
}

const pad = (n) => String(n).padStart(2, '0');

// fmtDuration(ms): "850ms", "12s", "3m 04s", "2h 05m", "3d 4h".
export function fmtDuration(d) {
  if (!Number.isFinite(d)) return '';
  if (d < 1000) return `${Math.round(d)}ms`;
  let s = Math.floor(d / 1000);
  if (s < 60) return `${s}s`;
  let m = Math.floor(s / 60);
  s %= 60;
  if (m < 60) return `${m}m ${pad(s)}s`;
  let hr = Math.floor(m / 60);
  m %= 60;
  if (hr < 24) return `${hr}h ${pad(m)}m`;
  return `${Math.floor(hr / 24)}d ${hr % 24}h`;
}

// fmtTime(iso): local time, "16:00:05" today, "2026-12-07 16:00" otherwise.
export function fmtTime(iso, now = new Date()) {
  const t = ms(iso);
  if (Number.isNaN(t)) return '';
  const d = new Date(t);
  const hms = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  if (d.toDateString() === now.toDateString()) return hms;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

// runDuration(run): ticking while the run has started and is not complete.
export function runDuration(run, now = Date.now()) {
  if (!run.started) return NaN;
  if (!run.completed && TERMINAL.has(run.phase)) return NaN; // terminal without a completion time
  return duration(run.started, run.completed, now);
}
export const isTicking = (run) => !!run.started && !run.completed && !TERMINAL.has(run.phase);

// fmtAge(iso, now): how long ago, as kubectl says it: "45s", "12m", "3h", "5d".
export function fmtAge(iso, now = Date.now()) {
  const t = ms(iso);
  if (Number.isNaN(t)) return '';
  const s = Math.max(0, Math.floor((now - t) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}
