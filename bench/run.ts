/**
 * `deno task bench`: prints shoal's speed figures. Goals live here, never in
 * timed test assertions.
 *
 * @module
 */

import { benchBencode } from "./bencode.ts";
import { benchHashing, ratioToOpenssl } from "./hashing.ts";
import { printFigures } from "./measure.ts";

console.log("== Bencode and metainfo parsing");
printFigures(benchBencode());

console.log("\n== SHA-1 hashing (goal: at least 80% of openssl speed sha1)");
const scratch = await Deno.makeTempDir({ prefix: "shoal-bench-" });
try {
  const { figures, opensslMegabytesPerSecond } = await benchHashing(scratch);
  printFigures(figures);
  for (const figure of figures) {
    console.log(`  ${figure.name}: ${ratioToOpenssl(figure, opensslMegabytesPerSecond)}`);
  }
} finally {
  await Deno.remove(scratch, { recursive: true });
}
