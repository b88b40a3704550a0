/**
 * The DHT (BEP 5) between real nodes, each scenario in a network namespace
 * of its own with only loopback (see `tests/helpers/dht_scenarios.ts`), so
 * no DHT traffic can leave the machine: shoal and libtorrent finding each
 * other's seeds both ways, aria2c and WebTorrent finding shoal, a DHT of
 * 30 shoal nodes, hostile nodes, and the built-in bootstrap list going
 * nowhere.
 */
import { runIsolated } from "../helpers/isolated.ts";
import { testWithPrograms } from "../helpers/tools.ts";

const SCENARIOS = new URL("../helpers/dht_scenarios.ts", import.meta.url).pathname;

/** Runs a scenario inside `unshare -n` with loopback up, and prints what it saw. */
async function isolated(scenario: string): Promise<void> {
  const output = await runIsolated(SCENARIOS, scenario, "ip link set lo up");
  console.log(`  ${scenario}: ${output.trim().slice(3)}`);
}

testWithPrograms(
  "dht: shoal bootstraps from a libtorrent node, finds a libtorrent seed that announced only to the DHT, and a bare magnet link downloads byte for byte",
  ["network-namespace", "python3-libtorrent"],
  async () => await isolated("libtorrent-seed"),
);

testWithPrograms(
  "dht: a libtorrent leecher bootstrapped from shoal's node finds the shoal seed through the DHT and downloads from it",
  ["network-namespace", "python3-libtorrent"],
  async () => await isolated("libtorrent-leecher"),
);

testWithPrograms(
  "dht: aria2c, given a bare magnet link and a shoal node as its entry point, finds the shoal seed in a DHT of shoal and libtorrent nodes",
  ["network-namespace", "python3-libtorrent", "aria2c"],
  async () => await isolated("aria2-leecher"),
);

testWithPrograms(
  "dht: WebTorrent, given a bare magnet link, finds the shoal seed in a DHT of shoal and libtorrent nodes",
  ["network-namespace", "python3-libtorrent", "webtorrent"],
  async () => await isolated("webtorrent-leecher"),
);

testWithPrograms(
  "dht: shoal dht joins and saves its table, shoal dht get-peers finds a seed from the saved table, shoal download of a bare magnet link finds it",
  ["network-namespace"],
  async () => await isolated("cli"),
);

testWithPrograms(
  "dht: IPv4 and IPv6 nodes (BEP 32) join through both families and find a peer announced over IPv6",
  ["network-namespace"],
  async () => await isolated("ipv6"),
);

testWithPrograms(
  "dht: in a DHT of 30 shoal nodes every lookup of an announced info hash finds the peer",
  ["network-namespace"],
  async () => await isolated("shoal-30"),
);

testWithPrograms(
  "dht: shoal pings the nodes a torrent file names, sends its DHT port (PORT) to peers with the DHT bit and pings the nodes peers name; none of it for a private torrent",
  ["network-namespace"],
  async () => await isolated("port-message"),
);

testWithPrograms(
  "dht: a magnet link whose torrent turns out private stops looking itself up in the DHT once its metadata says so",
  ["network-namespace"],
  async () => await isolated("private-magnet"),
);

testWithPrograms(
  "dht: the UDP tracker client sends from the DHT's socket (opentracker over UDP, no second UDP socket)",
  ["network-namespace", "opentracker"],
  async () => await isolated("shared-udp"),
);

testWithPrograms(
  "dht: a node whose bootstrap node was down at start tries again and joins once it is up",
  ["network-namespace"],
  async () => await isolated("rebootstrap"),
);

testWithPrograms(
  "dht: once three nodes agree on our external address, the node id follows it (BEP 42) and the table keeps its nodes",
  ["network-namespace"],
  async () => await isolated("bep42"),
);

testWithPrograms(
  "dht: garbage, unasked-for replies, a query flood and a node naming fresh nodes forever leave a node bounded and serving others",
  ["network-namespace"],
  async () => await isolated("hostile"),
);

testWithPrograms(
  "dht: with the built-in bootstrap list and no network, shoal download resolves no router, sends no datagram and gives up",
  ["network-namespace"],
  async () => await isolated("safety"),
);
