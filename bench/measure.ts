/**
 * Timing helpers for the benchmark scripts: run a function until enough time
 * has passed and report bytes per second.
 *
 * @module
 */

/** One measured figure. */
export interface Figure {
  /** What was measured. */
  name: string;
  /** Bytes processed per run. */
  bytes: number;
  /** Median seconds per run. */
  seconds: number;
}

/** Runs `fn` at least 5 times and for at least 0.5 s; returns the median time. */
export function measure(name: string, bytes: number, fn: () => unknown): Figure {
  const times: number[] = [];
  const start = performance.now();
  while (times.length < 5 || performance.now() - start < 500) {
    const t = performance.now();
    fn();
    times.push((performance.now() - t) / 1000);
    if (times.length >= 200) break;
  }
  times.sort((a, b) => a - b);
  return { name, bytes, seconds: times[Math.floor(times.length / 2)] };
}

/** Like {@linkcode measure} for an async function. */
export async function measureAsync(
  name: string,
  bytes: number,
  fn: () => Promise<unknown>,
  runs = 3,
): Promise<Figure> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    times.push((performance.now() - t) / 1000);
  }
  times.sort((a, b) => a - b);
  return { name, bytes, seconds: times[Math.floor(times.length / 2)] };
}

/** Megabytes (10^6 bytes) per second of a figure. */
export function megabytesPerSecond(figure: Figure): number {
  return figure.bytes / 1e6 / figure.seconds;
}

/** Prints figures as an aligned table. */
export function printFigures(figures: readonly Figure[]): void {
  const width = Math.max(...figures.map((f) => f.name.length));
  for (const figure of figures) {
    const size = figure.bytes >= 1e6
      ? `${(figure.bytes / 1e6).toFixed(1)} MB`
      : `${(figure.bytes / 1e3).toFixed(1)} kB`;
    console.log(
      `${figure.name.padEnd(width)}  ${size.padStart(9)}  ${
        (figure.seconds * 1000).toFixed(2).padStart(9)
      } ms  ${megabytesPerSecond(figure).toFixed(0).padStart(7)} MB/s`,
    );
  }
}
