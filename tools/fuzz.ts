/**
 * `deno task fuzz [target…] [--runs N] [--seed N]`: the long fuzz run. Every
 * target (or those named) gets N inputs (1,000,000 by default) from the same
 * generator as the test suite's short run (tests/fuzz/inputs.ts), seeded, so
 * a run repeats exactly. Failures are grouped by their message (numbers left
 * out) and the shortest input of each kind is saved under
 * tests/fuzz/corpus/<target>/, where the test suite replays it; the run goes
 * on and exits 1 at the end if anything failed. Per target it prints inputs,
 * seconds, inputs per second, the share the parser accepted, the slowest
 * input and the failures.
 *
 * @module
 */

import fc from "fast-check";
import { parseArgs } from "node:util";
import { saveFailure } from "../tests/fuzz/corpus.ts";
import { fuzzInput } from "../tests/fuzz/inputs.ts";
import { type FuzzTarget, fuzzTargets, runInput } from "../tests/fuzz/targets.ts";

const BATCH = 10_000;
/** Kinds of failure saved per target at most; the rest are only counted. */
const MAX_KINDS = 20;
/** An input slower than this counts as a failure (a parser gone quadratic or worse). */
const SLOW_MS = 1000;

const USAGE = `Usage: deno task fuzz [target…] [--runs N] [--seed N]

Runs every fuzz target (or those named) for N inputs each (default 1,000,000),
from fast-check seed --seed (default 1). The shortest input of each kind of
failure is saved to tests/fuzz/corpus/<target>/<sha1>.bin, which the test
suite replays; the exit code is 1 if any input failed.`;

/** Failures with one message (numbers aside), and the shortest input that failed so. */
interface FailureKind {
  message: string;
  count: number;
  input: Uint8Array;
  index: number;
}

/** What one target's run found. */
interface TargetReport {
  name: string;
  inputs: number;
  seconds: number;
  accepted: number;
  slowestMs: number;
  failures: number;
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.split("\n")[0];
  return String(error);
}

/** Runs `runs` inputs through the target; saves the shortest input of each kind of failure. */
async function fuzzTarget(target: FuzzTarget, runs: number, seed: number): Promise<TargetReport> {
  const arbitrary = fuzzInput(target.seeds);
  const report: TargetReport = {
    name: target.name,
    inputs: 0,
    seconds: 0,
    accepted: 0,
    slowestMs: 0,
    failures: 0,
  };
  const kinds = new Map<string, FailureKind>();
  const started = performance.now();
  let lastProgress = started;
  for (let batch = 0; report.inputs < runs; batch++) {
    const count = Math.min(BATCH, runs - report.inputs);
    const inputs = fc.sample(arbitrary, { seed: (seed * 1_000_003 + batch) | 0, numRuns: count });
    for (const input of inputs) {
      const before = performance.now();
      const outcome = await runInput(target, input);
      const elapsed = performance.now() - before;
      report.inputs++;
      if (elapsed > report.slowestMs) report.slowestMs = elapsed;
      let failure: string | undefined;
      if (outcome.kind === "failed") failure = describe(outcome.error);
      else if (elapsed > SLOW_MS) failure = `took ${Math.round(elapsed)} ms`;
      else if (outcome.kind === "accepted") report.accepted++;
      if (failure === undefined) continue;
      report.failures++;
      const signature = failure.replace(/\d+/g, "N");
      const kind = kinds.get(signature);
      if (kind) {
        kind.count++;
        if (input.length < kind.input.length) Object.assign(kind, { input, index: report.inputs });
      } else if (kinds.size < MAX_KINDS) {
        kinds.set(signature, { message: failure, count: 1, input, index: report.inputs });
      }
    }
    const now = performance.now();
    if (now - lastProgress > 10_000) {
      lastProgress = now;
      console.error(`  ${target.name}: ${report.inputs.toLocaleString("en")} inputs…`);
    }
  }
  report.seconds = (performance.now() - started) / 1000;
  for (const kind of kinds.values()) {
    const path = await saveFailure(target.name, kind.input);
    console.error(
      `  ${target.name}: ${kind.count} inputs fail with ${kind.message}\n` +
        `    shortest (input ${kind.index}, ${kind.input.length} bytes) saved to ${path}`,
    );
  }
  return report;
}

function row(cells: string[]): string {
  const widths = [20, 11, 8, 10, 9, 10, 9];
  return cells.map((cell, i) => i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))
    .join(" ");
}

function formatReport(report: TargetReport): string {
  return row([
    report.name,
    report.inputs.toLocaleString("en"),
    report.seconds.toFixed(1),
    Math.round(report.inputs / report.seconds).toLocaleString("en"),
    `${(100 * report.accepted / Math.max(report.inputs, 1)).toFixed(1)}%`,
    `${report.slowestMs.toFixed(1)} ms`,
    String(report.failures),
  ]);
}

async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      runs: { type: "string", default: "1000000" },
      seed: { type: "string", default: "1" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const runs = Number(values.runs);
  const seed = Number(values.seed);
  if (!Number.isSafeInteger(runs) || runs < 1 || !Number.isSafeInteger(seed)) {
    console.error(USAGE);
    return 2;
  }
  const all = fuzzTargets();
  const names = all.map((target) => target.name);
  const unknown = positionals.filter((name) => !names.includes(name));
  if (unknown.length > 0) {
    console.error(`No fuzz target ${unknown.join(", ")}; the targets: ${names.join(", ")}`);
    return 2;
  }
  const chosen = positionals.length === 0
    ? all
    : all.filter((target) => positionals.includes(target.name));
  console.log(`fuzz: ${runs.toLocaleString("en")} inputs per target, seed ${seed}`);
  console.log(row(["target", "inputs", "seconds", "inputs/s", "accepted", "slowest", "failures"]));
  let failed = 0;
  for (const target of chosen) {
    const report = await fuzzTarget(target, runs, seed);
    console.log(formatReport(report));
    failed += report.failures;
  }
  if (failed > 0) {
    console.log(
      `${failed} inputs failed; deno test tests/fuzz/fuzz_test.ts replays the saved ones`,
    );
  }
  return failed > 0 ? 1 : 0;
}

Deno.exit(await main(Deno.args));
