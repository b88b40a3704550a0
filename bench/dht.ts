/**
 * Runs the DHT benchmark (`bench/dht_isolated.ts`) inside a network
 * namespace with only loopback, so that no DHT traffic can leave the
 * machine; its figures are printed as they come.
 *
 * @module
 */

/** Runs it in a new network namespace (needs root, util-linux and iproute2). */
export async function benchDht(): Promise<void> {
  const script = new URL("./dht_isolated.ts", import.meta.url).pathname;
  const { code } = await new Deno.Command("unshare", {
    args: [
      "-n",
      "bash",
      "-c",
      'ip link set lo up && exec "$0" run --quiet -A --unstable-net --v8-flags=--expose-gc "$1"',
      Deno.execPath(),
      script,
    ],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (code !== 0) console.log(`  the DHT benchmark failed (exit ${code})`);
}
