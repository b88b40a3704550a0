/**
 * Local service discovery (BEP 14) for a whole session: per address
 * family, a socket bound to the multicast group on port 6771 (it hears
 * multicast only, never unicast from afar) and one to send from on each
 * bound address, shared by every torrent. Each torrent that takes part is
 * announced when it starts and every 5 minutes after, never twice within a
 * minute (even across a restart); one datagram carries as many info hashes
 * as fit, and a group sends at most one a minute, except that a torrent
 * just started goes out within 5 s. An announce from another client for
 * one of our torrents names a peer (the datagram's source address and the
 * announced port).
 *
 * Nothing here is trusted: datagrams over 4 KiB or not an announce are
 * dropped, at most 64 info hashes are read from one, a sender of more
 * than 20 datagrams a minute is not heard for the rest of that minute,
 * and no more than 100 datagrams a second are looked at in all. Our own
 * announces come back (multicast loops back to this machine) and are
 * known by their cookie.
 *
 * IPv4 announces leave from the addresses given to bind to (the system
 * sends multicast from the interface that holds the source address), else
 * from the default interface, with a multicast TTL of 1 (the local network
 * only); IPv6 ones from the default interface, hop limit 1. Without the
 * permission for the group and those addresses, the family is off: the
 * permission is asked about, never prompted for.
 *
 * @module
 */

import type { PeerAddress } from "../net/peer_address.ts";
import { setNewest } from "../util/_bounded.ts";
import { toHex } from "../util/_bytes.ts";
import { type Logger, silentLogger } from "../util/log.ts";
import { encodeLsdAnnounce, LSD_IPV4, LSD_IPV6, parseLsdAnnounce } from "./lsd_message.ts";
import type { AnnouncingPeerSource, DiscoveryService } from "./peer_source.ts";

/** Time between two announces of one torrent (BEP 14: every 5 minutes). */
const ANNOUNCE_EVERY_MS = 5 * 60_000;
/** Least time between two announces of one torrent (even across a restart), and between two datagrams. */
const MIN_GAP_MS = 60_000;
/** Least time between two datagrams when one holds a torrent just started. */
const FRESH_GAP_MS = 5_000;
/** Datagrams a minute heard from one sender. */
const PER_SENDER_PER_MINUTE = 20;
/** Datagrams a second looked at in all. */
const PER_SECOND = 100;
/** Senders (and recently announced torrents) remembered. */
const REMEMBERED = 4096;

/** Options of {@linkcode LocalDiscovery}. */
export interface LocalDiscoveryOptions {
  /** Our listen port, announced; 0 when we do not listen (then nothing is announced). */
  port: number;
  /** The addresses the session binds to (`--bind`). Default: every interface. */
  bind?: readonly string[];
  /** Where to log. */
  log?: Logger;
  /** Time between two announces of one torrent, in ms. Default 5 minutes. */
  announceEveryMs?: number;
}

/** One multicast group we take part in. */
interface Group {
  family: 4 | 6;
  /** Where announces are heard. */
  receiver: Deno.DatagramConn;
  /** Where announces leave from: one socket per bound address (or the default one). */
  senders: Deno.DatagramConn[];
  /** The receive loop. */
  listening: Promise<void>;
  /** When its last announce left. */
  sentAt: number;
}

/** What we know of one torrent taking part. */
interface Entry {
  infoHash: Uint8Array;
  found: (peers: readonly PeerAddress[], name: string) => void;
  announcing: boolean;
  /** Per family: when it is due next, and whether it was never announced there since it started announcing (it then goes out soon, not in a minute). */
  turns: Record<4 | 6, { nextAt: number; fresh: boolean }>;
}

/**
 * The session's local service discovery: its sockets, its torrents and
 * its announces.
 *
 * @example A torrent's source of LAN peers (sockets open only with the
 * `net` unstable flag; without it the service stays silent)
 * ```ts ignore
 * import { LocalDiscovery } from "./local_discovery.ts";
 *
 * const lsd = new LocalDiscovery({ port: 6881 });
 * const source = lsd.source(new Uint8Array(20));
 * source.start((peers) => console.log("on the LAN:", peers));
 * source.announce(true); // tell the LAN we have it (not for a private torrent)
 * const clock = setInterval(() => lsd.tick(), 1000);
 * // …
 * clearInterval(clock);
 * await source.stop();
 * await lsd.close();
 * ```
 */
export class LocalDiscovery implements DiscoveryService {
  /** The kind of the peers it finds. */
  readonly kind = "lsd" as const;
  readonly #options: LocalDiscoveryOptions;
  readonly #log: Logger;
  readonly #cookie = toHex(crypto.getRandomValues(new Uint8Array(6)));
  readonly #groups: Group[] = [];
  /** The groups being opened: close() waits for them. */
  readonly #opening: Promise<void>[] = [];
  readonly #entries = new Map<string, Entry>();
  /** When each torrent was last announced (kept after it stops: a restart waits its minute). */
  readonly #lastAnnounced = new Map<string, number>();
  readonly #senders = new Map<string, { since: number; count: number }>();
  #second = { at: 0, count: 0 };
  #closed = false;

  /**
   * Opens the multicast sockets. A family that cannot be used (no UDP
   * sockets without Deno's `net` flag, no multicast route, the port
   * refused) is left out with a warning; the service then stays silent
   * for it.
   *
   * @param options Our port, the addresses to bind to, the log.
   */
  constructor(options: LocalDiscoveryOptions) {
    this.#options = options;
    this.#log = options.log ?? silentLogger;
    if (typeof Deno.listenDatagram !== "function") {
      this.#log.warn("local service discovery (LSD) is off: UDP needs Deno's --unstable-net");
      return;
    }
    const bind = options.bind?.length ? options.bind : undefined;
    for (const family of [4, 6] as const) {
      const addresses = bind?.filter((host) => host.includes(":") === (family === 6));
      if (addresses?.length === 0) continue; // Bound to addresses of the other family only.
      this.#opening.push(
        this.#open(family, addresses).catch((error) =>
          this.#log.warn(
            `local service discovery (LSD) over IPv${family} is off: ${(error as Error).message}`,
          )
        ),
      );
    }
  }

  /**
   * Opens the group of one family: a socket bound to the group's address
   * (it hears multicast only, never unicast from afar), joined on each of
   * `addresses` (or the default interface), and a socket to send from on
   * each address, with a multicast TTL of 1.
   */
  async #open(family: 4 | 6, addresses: readonly string[] | undefined): Promise<void> {
    const group = family === 4 ? LSD_IPV4 : LSD_IPV6;
    const hosts = [...new Set(addresses ?? [family === 4 ? "0.0.0.0" : "::"])];
    // IPv6 joins on the default interface, and its multicast leaves from it whatever the
    // source: one join and one sender.
    const used = family === 4 ? hosts : hosts.slice(0, 1);
    // Ask, never prompt: without the permission LSD is off, as with --no-lsd.
    for (const host of [group.host, ...hosts]) {
      const target = `${host.includes(":") ? `[${host}]` : host}:${
        host === group.host ? group.port : 0
      }`;
      if (Deno.permissions.querySync({ name: "net", host: target }).state !== "granted") {
        throw new Error(`Deno's permissions do not allow net access to ${target} (--allow-net)`);
      }
    }
    const opened: Deno.DatagramConn[] = [];
    const join = async (socket: Deno.DatagramConn, host: string) => {
      if (family === 6) {
        // IPv6 hop limit: the system's default for multicast, 1.
        return await (await socket.joinMulticastV6(group.host, 0)).setLoopback(true);
      }
      const membership = await socket.joinMulticastV4(group.host, host);
      await membership.setLoopback(true);
      await membership.setTTL(1);
    };
    try {
      const receiver = Deno.listenDatagram({
        transport: "udp",
        hostname: group.host,
        port: group.port,
        reuseAddress: true,
        loopback: true,
      });
      opened.push(receiver);
      for (const host of used) {
        await join(receiver, host).catch((error) => {
          // Two addresses on one interface: joined there already.
          if (!(error instanceof Deno.errors.AddrInUse)) throw error;
        });
      }
      const senders: Deno.DatagramConn[] = [];
      for (const host of used) {
        const sender = Deno.listenDatagram({ transport: "udp", hostname: host, port: 0 });
        opened.push(sender);
        await join(sender, host);
        senders.push(sender);
      }
      if (this.#closed) throw new Error("closed");
      this.#groups.push({
        family,
        receiver,
        senders,
        listening: this.#listen(receiver),
        sentAt: 0,
      });
      this.#log.debug(`LSD: listening on ${group.host}:${group.port}`);
    } catch (error) {
      for (const socket of opened) socket.close();
      if (!this.#closed) throw error;
    }
  }

  /** Reads announces until the socket closes. */
  async #listen(socket: Deno.DatagramConn): Promise<void> {
    while (!this.#closed) {
      let datagram: Uint8Array;
      let from: Deno.Addr;
      try {
        [datagram, from] = await socket.receive();
      } catch (error) {
        if (!this.#closed) this.#log.warn(`LSD: stopped listening: ${(error as Error).message}`);
        return;
      }
      if (from.transport !== "udp") continue;
      try {
        this.#heard(datagram, from.hostname);
      } catch (error) {
        this.#log.error(`LSD: ${(error as Error).stack} (a bug; please report it)`);
      }
    }
  }

  /** An announce (or anything) arrived from `host`. */
  #heard(datagram: Uint8Array, host: string): void {
    const now = Date.now();
    if (now - this.#second.at >= 1000) this.#second = { at: now, count: 0 };
    if (++this.#second.count > PER_SECOND) return;
    const sender = this.#senders.get(host);
    if (sender && now - sender.since < 60_000) {
      if (++sender.count > PER_SENDER_PER_MINUTE) return;
    } else setNewest(this.#senders, host, { since: now, count: 1 }, REMEMBERED);
    const announce = parseLsdAnnounce(datagram);
    if (!announce || announce.cookie === this.#cookie) return;
    const peer = { host: host.replace(/^::ffff:(?=\d+\.)/i, ""), port: announce.port };
    for (const infoHash of announce.infoHashes) {
      const entry = this.#entries.get(toHex(infoHash));
      if (!entry) continue;
      this.#log.debug(`LSD: ${peer.host}:${peer.port} has ${toHex(infoHash)}`);
      entry.found([peer], "lsd");
    }
  }

  /**
   * The source of LAN peers for one torrent: it hears announces for it
   * once started, and announces it only while told to (never for a
   * private torrent, and not before a magnet link's metadata says it is
   * not private).
   */
  source(infoHash: Uint8Array): AnnouncingPeerSource {
    const hex = toHex(infoHash);
    const entries = this.#entries;
    const minGap = () => (this.#lastAnnounced.get(hex) ?? -Infinity) + MIN_GAP_MS;
    let mine: Entry | undefined;
    return {
      kind: "lsd",
      start(found) {
        const turn = () => ({ nextAt: 0, fresh: true });
        mine = { infoHash, found, announcing: false, turns: { 4: turn(), 6: turn() } };
        entries.set(hex, mine);
      },
      announce(on) {
        if (!mine || mine.announcing === on) return;
        mine.announcing = on;
        const nextAt = Math.max(Date.now(), minGap());
        for (const turn of Object.values(mine.turns)) Object.assign(turn, { nextAt, fresh: on });
      },
      stop() {
        // Only its own: the same torrent added again has an entry of its own.
        if (mine && entries.get(hex) === mine) entries.delete(hex);
        mine = undefined;
        return Promise.resolve();
      },
    };
  }

  /**
   * Sends what is due, as one datagram per socket holding as many of the
   * due torrents as fit: at most one a minute per group (BEP 14), except
   * that a torrent just started goes out within 5 s.
   */
  tick(now: number = Date.now()): void {
    if (this.#closed || this.#options.port === 0) return;
    for (const group of this.#groups) this.#announce(group, now);
  }

  /** Sends one group its datagram, when one is due and its gap has passed. */
  #announce(group: Group, now: number): void {
    const due = [...this.#entries.entries()]
      .map(([hex, entry]) => ({ hex, entry, turn: entry.turns[group.family] }))
      .filter(({ entry, turn }) => entry.announcing && turn.nextAt <= now)
      .sort((a, b) => Number(b.turn.fresh) - Number(a.turn.fresh) || a.turn.nextAt - b.turn.nextAt);
    if (due.length === 0) return;
    if (now - group.sentAt < (due[0].turn.fresh ? FRESH_GAP_MS : MIN_GAP_MS)) return;
    const { datagram, count } = encodeLsdAnnounce(
      group.family,
      this.#options.port,
      due.map(({ entry }) => entry.infoHash),
      this.#cookie,
    );
    const host = group.family === 4 ? LSD_IPV4 : LSD_IPV6;
    for (const socket of group.senders) {
      socket.send(datagram, { transport: "udp", hostname: host.host, port: host.port })
        .catch((error) => this.#log.debug(`LSD: announce not sent: ${(error as Error).message}`));
    }
    group.sentAt = now;
    for (const { hex, turn } of due.slice(0, count)) {
      turn.fresh = false;
      turn.nextAt = now + (this.#options.announceEveryMs ?? ANNOUNCE_EVERY_MS);
      setNewest(this.#lastAnnounced, hex, now, REMEMBERED);
    }
  }

  /** Closes the sockets and waits for the receive loops to end. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#entries.clear();
    await Promise.all(this.#opening);
    for (const group of this.#groups) {
      for (const socket of [group.receiver, ...group.senders]) {
        try {
          socket.close();
        } catch {
          // Closed already.
        }
      }
    }
    await Promise.all(this.#groups.map((group) => group.listening));
  }
}
