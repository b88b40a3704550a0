/**
 * Local service discovery (BEP 14) between real peers, each scenario in a
 * network namespace of its own with only loopback, multicast on it (see
 * `tests/helpers/lsd_scenarios.ts`): two shoal sessions, `shoal download`
 * with LSD on by default, and shoal with libtorrent both ways, finding
 * each other by LSD alone.
 */
import { runIsolated } from "../helpers/isolated.ts";
import { testWithPrograms } from "../helpers/tools.ts";

const SCENARIOS = new URL("../helpers/lsd_scenarios.ts", import.meta.url).pathname;

/** Runs a scenario inside `unshare -n`, loopback up with a multicast route. */
function isolated(scenario: string): Promise<string> {
  const setup =
    "ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo";
  return runIsolated(SCENARIOS, scenario, setup);
}

testWithPrograms(
  "lsd: one announce per torrent on start, none again within the minute, none for a private torrent; garbage and floods from one sender are bounded",
  ["network-namespace"],
  async () => void await isolated("rules"),
);

testWithPrograms(
  "lsd: two shoal sessions that know nobody find each other on the local network, and one downloads from the other",
  ["network-namespace"],
  async () => void await isolated("shoal-shoal"),
);

testWithPrograms(
  "lsd: shoal download (LSD on by default, --bind 127.0.0.1) finds a seed by LSD alone",
  ["network-namespace"],
  async () => void await isolated("cli"),
);

testWithPrograms(
  "lsd: a libtorrent leecher and a shoal seed find each other by LSD and the data arrives byte for byte",
  ["network-namespace", "python3-libtorrent"],
  async () => void await isolated("libtorrent-leecher"),
);

testWithPrograms(
  "lsd: shoal, knowing nobody, finds a libtorrent seed by LSD and downloads byte for byte",
  ["network-namespace", "python3-libtorrent"],
  async () => void await isolated("libtorrent-seed"),
);
