/**
 * The download engine: a session (one listening port, one peer id, the UDP
 * tracker socket, the rate limits) to which torrents are added, each a
 * handle that reports its status and events.
 *
 * @example Seeding a file and downloading it again, on loopback
 * ```ts
 * import { createTorrent } from "../metainfo/mod.ts";
 * import { Session } from "./mod.ts";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/seed`);
 * await Deno.writeFile(`${dir}/seed/song.ogg`, crypto.getRandomValues(new Uint8Array(60_000)));
 * const { torrent } = await createTorrent(`${dir}/seed/song.ogg`);
 *
 * const seeder = new Session({ port: 0, host: "127.0.0.1" });
 * await seeder.add(torrent, { downloadDir: `${dir}/seed`, seed: true }).done;
 *
 * const leecher = new Session({ port: 0, host: "127.0.0.1" });
 * const handle = leecher.add(torrent, {
 *   downloadDir: `${dir}/download`,
 *   peers: [{ host: "127.0.0.1", port: seeder.port }],
 * });
 * handle.on("piece", () => console.log(`${(handle.status().progress * 100).toFixed(0)}%`));
 * console.log(await handle.done); // "complete"
 * await leecher.close();
 * await seeder.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

export * from "./session.ts";
export * from "./torrent_handle.ts";
export * from "./file_reader.ts";
export type { FileProgress } from "./_file_selection.ts";
export type { FilePriority } from "../metainfo/file_priority.ts";
export type { PeerSummary, SwarmStats } from "../swarm/swarm.ts";
export type { DhtPortLink } from "../swarm/swarm_types.ts";
export type { PipelineOptions } from "../swarm/peer_session.ts";
export type { PeerEncryption, PeerTimeouts } from "../wire/connection.ts";
export type { TrackerStatus } from "../tracker/announcer.ts";
export type { WebSeedStatus } from "../webseed/web_seed.ts";
export { Emitter, type EventMap } from "../util/emitter.ts";
export {
  FileLogger,
  type FileLoggerOptions,
  type Logger,
  type LogLevel,
  silentLogger,
} from "../util/log.ts";
