/**
 * The Kademlia routing table of a DHT node (BEP 5): nodes by the XOR
 * distance of their ids from ours, in buckets of k = 8, the bucket that
 * holds our own id split in two when it is full, and a replacement list
 * per bucket for nodes that did not fit.
 *
 * Only nodes that answered one of our queries enter a bucket ("good"); a
 * node silent for 15 minutes is questionable (the node pings it before
 * giving its place away), and one that failed to answer twice in a row is
 * bad and is replaced by the freshest replacement. A node never confirmed
 * goes at its first failure.
 *
 * Against one host filling the table (a Sybil), each IP address holds one
 * entry in the whole table unless `manyPerIp` (tests and closed networks,
 * where every node is 127.0.0.1). A node whose id follows BEP 42 for its
 * address is preferred: it takes the place of one that does not.
 *
 * @module
 */

import { bytesEqual } from "../util/_bytes.ts";
import type { NodeContact } from "./compact_nodes.ts";

/** Nodes per bucket (BEP 5: k = 8). */
export const BUCKET_SIZE = 8;
/** Silence after which a node is questionable, and a bucket stale (BEP 5: 15 minutes). */
export const QUESTIONABLE_AFTER_MS = 15 * 60_000;
/** Failed queries in a row that make a node bad. */
export const BAD_AFTER_FAILURES = 2;
const ID_BITS = 160;

/** One node the table knows. */
export interface RoutingEntry extends NodeContact {
  /** `host:port`. */
  key: string;
  /** When it last answered one of our queries (0: never). */
  repliedAt: number;
  /** When it last sent us a query. */
  queriedAt: number;
  /** Queries in a row it failed to answer. */
  failures: number;
  /** Whether its id follows BEP 42 for its address (or the address is exempt). */
  verified: boolean;
}

/** A summary of one bucket, for `shoal dht`. */
export interface BucketSummary {
  /** The bits of the prefix the bucket's ids share with ours. */
  depth: number;
  /** Nodes in it. */
  nodes: number;
  /** Replacements waiting. */
  replacements: number;
  /** Questionable nodes among `nodes`. */
  questionable: number;
}

interface Bucket {
  nodes: RoutingEntry[];
  replacements: RoutingEntry[];
  changedAt: number;
}

/** What {@linkcode RoutingTable.confirmed} did with a node. */
export type InsertOutcome =
  | "added"
  | "updated"
  | "replacement"
  | "refused";

/** Options of {@linkcode RoutingTable}. */
export interface RoutingTableOptions {
  /** Allow more than one entry per IP address (tests, closed networks). Default false. */
  manyPerIp?: boolean;
  /** Nodes per bucket. Default 8. */
  bucketSize?: number;
}

/**
 * Which of `a` and `b` is closer to `target` by XOR distance: negative
 * when `a` is, positive when `b` is, 0 when they are equal.
 */
export function compareDistance(a: Uint8Array, b: Uint8Array, target: Uint8Array): number {
  for (let i = 0; i < 20; i++) {
    const da = a[i] ^ target[i];
    const db = b[i] ^ target[i];
    if (da !== db) return da - db;
  }
  return 0;
}

/** How many leading bits `a` and `b` share (160 when equal). */
export function commonPrefixBits(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < 20; i++) {
    const x = a[i] ^ b[i];
    if (x !== 0) return i * 8 + Math.clz32(x) - 24;
  }
  return ID_BITS;
}

/**
 * A routing table around our node id.
 *
 * @example Nodes that answered, and the closest to a target
 * ```ts
 * import { RoutingTable } from "./routing_table.ts";
 *
 * const table = new RoutingTable(new Uint8Array(20), { manyPerIp: true });
 * for (let i = 1; i <= 3; i++) {
 *   const id = new Uint8Array(20).fill(i);
 *   table.confirmed({ id, host: "127.0.0.1", port: 6880 + i }, true, Date.now());
 * }
 * console.log(table.size, table.closest(new Uint8Array(20).fill(2), 1)[0].port); // 3 6882
 * ```
 */
export class RoutingTable {
  /** Our node id. */
  readonly id: Uint8Array;
  readonly #k: number;
  readonly #manyPerIp: boolean;
  /** Bucket i holds ids sharing exactly i leading bits with ours; the last one, i or more. */
  readonly #buckets: Bucket[] = [{ nodes: [], replacements: [], changedAt: 0 }];
  /** Every entry, by `host:port`, in buckets and replacement lists alike. */
  readonly #byKey = new Map<string, RoutingEntry>();
  /** How many entries each IP holds. */
  readonly #hosts = new Map<string, number>();

  /**
   * Makes an empty table.
   *
   * @param id Our node id.
   * @param options Bucket size and the one-entry-per-IP rule.
   */
  constructor(id: Uint8Array, options: RoutingTableOptions = {}) {
    this.id = id;
    this.#k = options.bucketSize ?? BUCKET_SIZE;
    this.#manyPerIp = options.manyPerIp ?? false;
  }

  /** Nodes in buckets (replacements not counted). */
  get size(): number {
    let size = 0;
    for (const bucket of this.#buckets) size += bucket.nodes.length;
    return size;
  }

  /** Entries held in all, replacements included. */
  get entries(): number {
    return this.#byKey.size;
  }

  /** The entry for `host:port`, in a bucket or waiting as a replacement. */
  get(key: string): RoutingEntry | undefined {
    return this.#byKey.get(key);
  }

  #bucketIndex(id: Uint8Array): number {
    return Math.min(commonPrefixBits(this.id, id), this.#buckets.length - 1);
  }

  /**
   * A node answered one of our queries (`replied`), or sent us one: it
   * enters its bucket if there is room (splitting ours when full), takes
   * the place of a bad node or of one whose id does not follow BEP 42, or
   * waits as a replacement. A node that only sent us a query is not put
   * in a bucket (it may not answer others); its entry is refreshed if it
   * has one.
   *
   * @param contact The node.
   * @param replied Whether it answered us (else it queried us).
   * @param now The time.
   * @param verified Whether its id follows BEP 42 for its address.
   */
  confirmed(
    contact: NodeContact,
    replied: boolean,
    now: number,
    verified = true,
  ): InsertOutcome {
    if (contact.id.length !== 20 || commonPrefixBits(contact.id, this.id) === ID_BITS) {
      return "refused";
    }
    const key = `${contact.host}:${contact.port}`;
    const known = this.#byKey.get(key);
    if (known && !bytesEqual(known.id, contact.id)) {
      // The same address with another id. A query's source address can be forged: only a reply
      // (to a query we sent there) replaces the entry.
      if (!replied) return "refused";
      this.#remove(known);
    } else if (known) {
      if (replied) {
        known.repliedAt = now;
        known.failures = 0;
        this.#promote(known, now);
      } else known.queriedAt = now;
      return "updated";
    }
    if (!replied) return "refused";
    const host = contact.host;
    if (!this.#manyPerIp && (this.#hosts.get(host) ?? 0) > 0) return "refused";
    const entry: RoutingEntry = {
      id: contact.id,
      host,
      port: contact.port,
      key,
      repliedAt: now,
      queriedAt: 0,
      failures: 0,
      verified,
    };
    return this.#insert(entry, now);
  }

  #insert(entry: RoutingEntry, now: number): InsertOutcome {
    for (;;) {
      const index = this.#bucketIndex(entry.id);
      const bucket = this.#buckets[index];
      if (bucket.nodes.length < this.#k) {
        this.#hold(entry);
        bucket.nodes.push(entry);
        bucket.changedAt = now;
        return "added";
      }
      if (index === this.#buckets.length - 1 && this.#buckets.length < ID_BITS) {
        this.#split();
        continue;
      }
      const weakest = bucket.nodes.find((node) => node.failures >= BAD_AFTER_FAILURES) ??
        (entry.verified ? bucket.nodes.find((node) => !node.verified) : undefined);
      if (weakest) {
        this.#remove(weakest);
        if (!weakest.verified && weakest.failures < BAD_AFTER_FAILURES) {
          this.#addReplacement(bucket, weakest);
        }
        this.#hold(entry);
        bucket.nodes.push(entry);
        bucket.changedAt = now;
        return "added";
      }
      this.#addReplacement(bucket, entry);
      return "replacement";
    }
  }

  #addReplacement(bucket: Bucket, entry: RoutingEntry): void {
    this.#hold(entry);
    bucket.replacements.push(entry);
    while (bucket.replacements.length > this.#k) this.#remove(bucket.replacements[0]);
  }

  /** A replacement that answered moves into its bucket when there is room. */
  #promote(entry: RoutingEntry, now: number): void {
    const bucket = this.#buckets[this.#bucketIndex(entry.id)];
    const at = bucket.replacements.indexOf(entry);
    if (at < 0) return;
    const bad = bucket.nodes.find((node) => node.failures >= BAD_AFTER_FAILURES);
    if (bucket.nodes.length >= this.#k && !bad) return;
    if (bad) this.#remove(bad);
    bucket.replacements.splice(at, 1);
    bucket.nodes.push(entry);
    bucket.changedAt = now;
  }

  #split(): void {
    const last = this.#buckets[this.#buckets.length - 1];
    const depth = this.#buckets.length - 1;
    const next: Bucket = { nodes: [], replacements: [], changedAt: last.changedAt };
    const stays = (node: RoutingEntry) => commonPrefixBits(node.id, this.id) === depth;
    next.nodes = last.nodes.filter((node) => !stays(node));
    next.replacements = last.replacements.filter((node) => !stays(node));
    last.nodes = last.nodes.filter(stays);
    last.replacements = last.replacements.filter(stays);
    this.#buckets.push(next);
  }

  #hold(entry: RoutingEntry): void {
    this.#byKey.set(entry.key, entry);
    this.#hosts.set(entry.host, (this.#hosts.get(entry.host) ?? 0) + 1);
  }

  #remove(entry: RoutingEntry): void {
    if (this.#byKey.get(entry.key) !== entry) return;
    this.#byKey.delete(entry.key);
    const count = (this.#hosts.get(entry.host) ?? 1) - 1;
    if (count > 0) this.#hosts.set(entry.host, count);
    else this.#hosts.delete(entry.host);
    const bucket = this.#buckets[this.#bucketIndex(entry.id)];
    for (const list of [bucket.nodes, bucket.replacements]) {
      const at = list.indexOf(entry);
      if (at >= 0) list.splice(at, 1);
    }
  }

  /**
   * A query to `host:port` went unanswered: a node never confirmed goes,
   * a bad one gives its place to the freshest replacement that answered.
   */
  failed(key: string): void {
    const entry = this.#byKey.get(key);
    if (!entry) return;
    entry.failures++;
    const bucket = this.#buckets[this.#bucketIndex(entry.id)];
    if (bucket.replacements.includes(entry)) {
      this.#remove(entry);
      return;
    }
    if (entry.failures < BAD_AFTER_FAILURES) return;
    const replacement = bucket.replacements.findLast((node) => node.failures === 0);
    if (!replacement) return; // It stays, bad: the next node to answer takes its place.
    this.#remove(entry);
    bucket.replacements.splice(bucket.replacements.indexOf(replacement), 1);
    bucket.nodes.push(replacement);
  }

  /** Forgets the entry for `host:port`. */
  drop(key: string): void {
    const entry = this.#byKey.get(key);
    if (entry) this.#remove(entry);
  }

  /**
   * The `count` nodes closest to `target` that are not bad, closest first.
   *
   * @param target An id or an info hash.
   * @param count How many. Default k.
   * @param family Only nodes of this address family.
   */
  closest(target: Uint8Array, count: number = this.#k, family?: 4 | 6): RoutingEntry[] {
    const found: RoutingEntry[] = [];
    for (const bucket of this.#buckets) {
      for (const node of bucket.nodes) {
        if (node.failures >= BAD_AFTER_FAILURES) continue;
        if (family !== undefined && node.host.includes(":") !== (family === 6)) continue;
        found.push(node);
      }
    }
    return found.sort((a, b) => compareDistance(a.id, b.id, target)).slice(0, count);
  }

  /** Every node in a bucket, oldest answer first. */
  nodes(): RoutingEntry[] {
    return this.#buckets.flatMap((bucket) => bucket.nodes)
      .sort((a, b) => a.repliedAt - b.repliedAt);
  }

  /** Nodes silent for 15 minutes (or more) that should be pinged now, oldest first. */
  questionable(now: number): RoutingEntry[] {
    return this.nodes().filter((node) =>
      now - Math.max(node.repliedAt, node.queriedAt) >= QUESTIONABLE_AFTER_MS ||
      (node.failures > 0 && node.failures < BAD_AFTER_FAILURES)
    );
  }

  /**
   * A random target in the bucket unchanged longest, if 15 minutes or
   * more, to refresh it with a `find_node`; marks that bucket refreshed.
   */
  staleTarget(now: number): Uint8Array | undefined {
    let stalest = -1;
    this.#buckets.forEach((bucket, depth) => {
      if (now - bucket.changedAt < QUESTIONABLE_AFTER_MS) return;
      if (stalest < 0 || bucket.changedAt < this.#buckets[stalest].changedAt) stalest = depth;
    });
    if (stalest < 0) return undefined;
    this.#buckets[stalest].changedAt = now;
    return this.randomIdAt(stalest, stalest === this.#buckets.length - 1);
  }

  /**
   * A random id sharing exactly `depth` leading bits with ours (or at
   * least `depth` when `orDeeper`).
   */
  randomIdAt(depth: number, orDeeper = false): Uint8Array {
    const id = crypto.getRandomValues(new Uint8Array(20));
    for (let bit = 0; bit < Math.min(depth + 1, ID_BITS); bit++) {
      const byte = bit >> 3;
      const mask = 0x80 >> (bit & 7);
      const ours = this.id[byte] & mask;
      const want = bit < depth || orDeeper ? ours : ours ^ mask;
      if (bit === depth && orDeeper) break;
      id[byte] = (id[byte] & ~mask) | want;
    }
    return id;
  }

  /** The buckets, shallowest first. */
  buckets(now: number): BucketSummary[] {
    return this.#buckets.map((bucket, depth) => ({
      depth,
      nodes: bucket.nodes.length,
      replacements: bucket.replacements.length,
      questionable:
        bucket.nodes.filter((node) =>
          now - Math.max(node.repliedAt, node.queriedAt) >= QUESTIONABLE_AFTER_MS
        ).length,
    }));
  }
}
