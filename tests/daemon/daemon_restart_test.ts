/**
 * A daemon opened again over a state directory of many torrents: it lists
 * every one from the start, starts none before its RPC has had a turn,
 * then a few at a time (the others shown queued until their turn), and
 * sets a damaged record aside without losing the others.
 */
import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import { until } from "../helpers/until.ts";
import { withTempDir, writeRandomFile } from "../helpers/tools.ts";
import { createTorrent } from "../../lib/metainfo/mod.ts";
import { Daemon, type DaemonOptions } from "../../lib/daemon/mod.ts";
import type { Logger } from "../../lib/util/log.ts";

const TORRENTS = 20;

Deno.test("daemon: opened again with 20 seeds, it lists them all, starts them in turns and sets a damaged record aside", () =>
  withTempDir(async (dir) => {
    const downloads = `${dir}/downloads`;
    await Deno.mkdir(downloads);
    const warnings: string[] = [];
    const log: Logger = {
      debug() {},
      info() {},
      warn: (message) => warnings.push(message),
      error: (message) => warnings.push(message),
    };
    const options: DaemonOptions = {
      stateDir: `${dir}/state`,
      downloadDir: downloads,
      session: { port: 0, bind: ["127.0.0.1"] },
      log,
    };
    const first = await Daemon.open(options);
    try {
      for (let i = 0; i < TORRENTS; i++) {
        const path = `${downloads}/file-${i}.bin`;
        await writeRandomFile(path, 40_000, i + 1);
        const { torrent, bytes } = await createTorrent(path, { pieceLength: 16384 });
        await first.add({ source: { torrent, bytes }, paused: false });
      }
      await until(
        () => first.torrents().every((t) => t.handle.state === "seeding"),
        () => first.torrents().map((t) => t.handle.state).join(" "),
      );
    } finally {
      await first.close();
    }
    // A record a crash or a hand cut short: not JSON any more.
    const damaged = `${dir}/state/torrents/${"ab".repeat(20)}.json`;
    await Deno.writeTextFile(damaged, `{"infoHash":"${"ab".repeat(20)}","na`);

    const again = await Daemon.open(options);
    try {
      const listed = again.torrents();
      assertEquals(listed.length, TORRENTS, "every torrent is listed as soon as it is open");
      // Nothing starts before the RPC has had its turn: every one waits for the queue.
      for (const torrent of listed) {
        assert(!torrent.handle.running, `${torrent.record.name} waits for the queue's first pass`);
        assert(torrent.queued, `${torrent.record.name} is shown queued meanwhile`);
      }
      await until(() => again.torrents().some((t) => t.handle.running), "a first start");
      const running = again.torrents().filter((t) => t.handle.running);
      assert(running.length < TORRENTS, `${running.length} started at once`);
      for (const torrent of again.torrents().filter((t) => !t.handle.running)) {
        assert(torrent.queued, `${torrent.record.name} waits for its turn as queued`);
      }
      await until(
        () => again.torrents().every((t) => t.handle.state === "seeding" && !t.queued),
        () =>
          again.torrents().map((t) => `${t.handle.state}${t.queued ? " (queued)" : ""}`).join(", "),
      );
      assertEquals(
        again.torrents().map((t) => t.record.name),
        Array.from({ length: TORRENTS }, (_, i) => `file-${i}.bin`),
        "in the order they were added",
      );
      assertEquals((await Deno.stat(`${damaged}.bad`)).isFile, true, "set aside as .bad");
      assertStringIncludes(warnings.join("\n"), `${damaged} is damaged`);
    } finally {
      await again.close();
    }
  }));
