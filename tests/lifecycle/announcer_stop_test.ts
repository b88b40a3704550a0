/**
 * Starting, completing and stopping the announcer at random moments, many
 * times, against a real tracker (opentracker over UDP and HTTP) beside a
 * silent UDP tracker and a refused HTTP one: no promise may be left
 * rejected without a handler, whatever is in flight when the stop comes.
 */
import { assertEquals } from "../helpers/assert.ts";
import { RejectionWatch } from "../helpers/rejections.ts";
import { testWithPrograms } from "../helpers/tools.ts";
import { freePort, startOpentracker } from "../helpers/trackers.ts";
import { Announcer, UdpTrackerClient } from "../../lib/tracker/mod.ts";
import { toHex } from "../../lib/util/_bytes.ts";

const RUNS = 600;

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

testWithPrograms(
  `lifecycle: ${RUNS} random start/complete/stop runs of the announcer leave no unhandled rejection`,
  ["opentracker"],
  async () => {
    const infoHash = new TextEncoder().encode("announcer-stop-tests");
    const tracker = await startOpentracker([toHex(infoHash)]);
    // A UDP tracker that never answers, and an HTTP port nobody listens on.
    const silent = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const silentUrl = `udp://127.0.0.1:${(silent.addr as Deno.NetAddr).port}/announce`;
    const refusedUrl = `http://127.0.0.1:${freePort()}/announce`;
    const byName = tracker.udp.replace("127.0.0.1", "localhost");
    const watch = new RejectionWatch();
    try {
      for (let run = 0; run < RUNS; run++) {
        // Sometimes one client for many runs (as a session has), sometimes one per run.
        const udp = new UdpTrackerClient({ retransmitBaseMs: 5 + run % 20, maxRetransmits: 2 });
        const announcer = new Announcer({
          infoHash,
          peerId: new TextEncoder().encode(`-SH0100-${String(run).padStart(12, "0")}`),
          port: 20000 + run,
          trackers: [[tracker.udp, silentUrl], [tracker.http], [refusedUrl], [silentUrl], [byName]],
          private: run % 5 === 0,
          stats: () => ({ uploaded: 0, downloaded: 0, left: run % 3 === 0 ? 0 : 100 }),
          udp,
          retryBaseMs: 1,
          minimumIntervalSeconds: 0.001,
          stopTimeoutMs: 200,
        });
        announcer.start();
        // A third of the stops come at once, while the first requests resolve the host name.
        if (run % 3 !== 0) await pause(Math.random() ** 3 * 10);
        if (Math.random() < 0.5) announcer.complete();
        if (Math.random() < 0.3) announcer.announceNow();
        await pause(Math.random() ** 3 * 10);
        // The session closes the UDP client after its torrents stop; a stop racing a
        // close, or a close with requests in flight, must be as quiet.
        const order = Math.random();
        if (order < 0.2) {
          udp.close();
          await announcer.stop();
        } else if (order < 0.4) {
          const stopping = announcer.stop();
          udp.close();
          await stopping;
        } else {
          await announcer.stop();
          udp.close();
        }
      }
    } finally {
      await watch.stop();
      silent.close();
      await tracker.stop();
    }
    assertEquals(watch.reasons.length, 0, watch.describe());
  },
);
