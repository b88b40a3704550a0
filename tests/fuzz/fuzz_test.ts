/**
 * A short fuzz run of every parser of untrusted bytes (the long one is
 * `deno task fuzz`): each target's real seeds, then a few thousand random
 * and mutated inputs from a fixed fast-check seed, so a failure reproduces;
 * fast-check shrinks it and shows the input. Then every input saved in
 * tests/fuzz/corpus/ is replayed.
 */
import fc from "fast-check";
import { assert } from "../helpers/assert.ts";
import { corpusEntries } from "./corpus.ts";
import { fuzzInput } from "./inputs.ts";
import { fuzzTargets, runInput } from "./targets.ts";

const SEED = 20261211;
const RUNS = 3000;
const targets = fuzzTargets();

console.log(`fuzz: fast-check seed ${SEED}, ${RUNS} inputs per target`);

for (const target of targets) {
  Deno.test(`fuzz ${target.name}: its seeds, then ${RUNS} inputs (seed ${SEED})`, async () => {
    let accepted = 0;
    for (const [i, seed] of target.seeds.entries()) {
      const outcome = await runInput(target, seed);
      if (outcome.kind === "failed") {
        throw new Error(`seed ${i} of ${target.name} fails`, { cause: outcome.error });
      }
      if (outcome.kind === "accepted") accepted++;
    }
    assert(accepted > 0, `the parser accepts none of the ${target.name} seeds`);
    await fc.assert(
      fc.asyncProperty(fuzzInput(target.seeds), async (input) => {
        const outcome = await runInput(target, input);
        if (outcome.kind === "failed") throw outcome.error;
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
}

const byName = new Map(targets.map((target) => [target.name, target]));
for (const entry of corpusEntries()) {
  Deno.test(`fuzz corpus: ${entry.target}/${entry.name} replays without failing`, async () => {
    const target = byName.get(entry.target);
    assert(target, `tests/fuzz/corpus/${entry.target} is not the name of a fuzz target`);
    const outcome = await runInput(target, entry.bytes);
    if (outcome.kind === "failed") throw outcome.error;
  });
}
