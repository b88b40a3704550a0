/**
 * `deno task bench`: prints shoal's speed figures. Goals live here, never in
 * timed test assertions.
 *
 * @module
 */

import { benchBencode } from "./bencode.ts";
import { benchHugeTorrents } from "./huge_torrent.ts";
import { benchHashing, ratioToOpenssl } from "./hashing.ts";
import { printFigures } from "./measure.ts";
import { printPickerBench } from "./picker.ts";
import { benchDownload } from "./download.ts";
import { benchUpload } from "./upload.ts";
import { benchSpread } from "./spread.ts";
import { benchMetadata } from "./metadata.ts";
import { benchPex } from "./pex.ts";
import { benchDht } from "./dht.ts";
import { benchWebSeed } from "./web_seed.ts";
import { benchDaemonScale } from "./daemon_scale.ts";
import { hasProgram } from "../tests/helpers/tools.ts";

console.log("== Bencode and metainfo parsing");
printFigures(benchBencode());

console.log(
  "\n== Loading torrents with huge file lists (time and peak memory growth, each in a fresh process)",
);
for (const line of await benchHugeTorrents(hasProgram("python3-libtorrent"))) console.log(line);

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

console.log("\n== Piece picker scaling (goal: linear in pieces, 200 peers)");
printPickerBench();

console.log(
  "\n== Time to metadata (BEP 9) over loopback from a libtorrent seeder, shoal vs libtorrent (goal: under 100 ms from a given peer)",
);
if (!hasProgram("python3-libtorrent") || !hasProgram("opentracker")) {
  console.log("  skipped: python3-libtorrent and opentracker are needed");
} else {
  await benchMetadata();
}

console.log(
  "\n== Peer exchange (BEP 11) over loopback: two libtorrent leechers that know only a hub meet through its PEX",
);
if (!hasProgram("python3-libtorrent")) {
  console.log("  skipped: python3-libtorrent is needed");
} else {
  await benchPex();
}

console.log(
  "\n== DHT (BEP 5) in a loopback-only network namespace: lookups among 30 shoal nodes by shoal and by libtorrent; memory per routing entry and stored peer",
);
if (!hasProgram("network-namespace")) {
  console.log("  skipped: a network namespace is needed (root, unshare, ip)");
} else {
  await benchDht();
}

console.log(
  "\n== 1 GiB from nginx alone over loopback (a BEP 19 web seed): shoal vs aria2c (the torrent, and the URL with 4 connections) and curl",
);
const webSeedMissing = ["nginx", "aria2c", "curl", "/usr/bin/time"].filter((program) =>
  !hasProgram(program)
);
if (webSeedMissing.length > 0) {
  console.log(`  skipped: ${webSeedMissing.join(", ")} not installed`);
} else {
  await benchWebSeed();
}

console.log(
  "\n== The daemon with 1,000 torrents (100 active against a local libtorrent seeder), shoal vs transmission-daemon (goal: no worse on each)",
);
const daemonMissing = ["opentracker", "transmission-daemon", "python3-libtorrent"].filter((p) =>
  !hasProgram(p)
);
if (daemonMissing.length > 0) {
  console.log(`  skipped: ${daemonMissing.join(", ")} not installed`);
} else {
  await benchDaemonScale();
}

console.log("\n== 1 GiB download over loopback from 3 real seeders, shoal vs aria2c");
const missing = ["opentracker", "aria2c", "node", "/usr/bin/time"].filter((program) =>
  !hasProgram(program)
);
if (!hasProgram("python3-libtorrent")) missing.push("python3-libtorrent");
if (!hasProgram("webtorrent")) {
  missing.push("webtorrent (npm ci --ignore-scripts --prefix tests/peers)");
}
if (missing.length > 0) {
  console.log(`  skipped: ${missing.join(", ")} not installed`);
} else {
  await benchDownload();
  console.log(
    "\n== 1 GiB download over loopback from 3 libtorrent seeders, 5 runs each, shoal vs aria2c",
  );
  await benchSpread();
  console.log(
    "\n== 1 GiB upload over loopback to an aria2c leecher, shoal seeding vs aria2c seeding",
  );
  await benchUpload();
}
