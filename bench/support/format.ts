/** Human-readable units for context lines (BENCH lines carry raw numbers). */

/** Nanoseconds as ns, µs, ms or s, three significant digits. */
export function formatNs(ns: number): string {
  const abs = Math.abs(ns);
  if (abs < 1_000) return `${ns.toPrecision(3)} ns`;
  if (abs < 1_000_000) return `${(ns / 1_000).toPrecision(3)} µs`;
  if (abs < 1_000_000_000) return `${(ns / 1_000_000).toPrecision(3)} ms`;
  return `${(ns / 1_000_000_000).toPrecision(3)} s`;
}

/** Milliseconds as ms or s. */
export function formatMs(ms: number): string {
  return formatNs(ms * 1_000_000);
}

/** Bytes as B, KiB, MiB or GiB. */
export function formatBytes(bytes: number): string {
  const abs = Math.abs(bytes);
  if (abs < 1024) return `${Math.round(bytes)} B`;
  if (abs < 1024 ** 2) return `${(bytes / 1024).toPrecision(3)} KiB`;
  if (abs < 1024 ** 3) return `${(bytes / 1024 ** 2).toPrecision(3)} MiB`;
  return `${(bytes / 1024 ** 3).toPrecision(3)} GiB`;
}

/** A count with thousands separators: 100000 → "100,000". */
export function formatCount(count: number): string {
  return count.toLocaleString('en-US');
}

/** A case-size suffix: 1000 → "1k", 100000 → "100k", 1500 → "1500". */
export function sizeLabel(count: number): string {
  if (count >= 1_000_000 && count % 1_000_000 === 0) return `${count / 1_000_000}m`;
  if (count >= 1_000 && count % 1_000 === 0) return `${count / 1_000}k`;
  return String(count);
}

/** A ratio as "1.23×". */
export function formatRatio(ratio: number): string {
  return `${ratio.toPrecision(3)}×`;
}
