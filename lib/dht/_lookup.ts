/**
 * An iterative Kademlia lookup (BEP 5): ask the closest nodes known for
 * nodes closer to the target, α at a time, until the k closest that
 * answered are known. A query that has not answered within the soft
 * timeout frees its slot for another (its answer is still taken until
 * the hard timeout). Bounded: at most 200 candidates are kept (the
 * farthest go) and at most `maxQueries` queries are sent, so a node that
 * keeps naming new nodes cannot make a lookup run forever.
 *
 * @module
 */

import type { PeerAddress } from "../net/peer_address.ts";
import type { NodeContact } from "./compact_nodes.ts";
import { compareDistance } from "./routing_table.ts";

/** What one node answered. */
export interface LookupAnswer {
  /** The node's id, as it answered. */
  id: Uint8Array;
  /** Nodes it named. */
  nodes: NodeContact[];
  /** `get_peers`: peers it named. */
  peers: PeerAddress[];
  /** `get_peers`: its write token. */
  token?: Uint8Array;
}

/** Options of {@linkcode lookup}. */
export interface LookupOptions {
  /** The id or info hash sought. */
  target: Uint8Array;
  /** Where to start: the closest nodes of the routing table, or bootstrap nodes. */
  seeds: readonly NodeContact[];
  /** Asks one node; `undefined` when it did not answer (hard timeout, error). */
  ask: (node: NodeContact) => Promise<LookupAnswer | undefined>;
  /** Queries in flight. Default 3. */
  alpha?: number;
  /** How many closest nodes must have answered. Default 8. */
  k?: number;
  /** After this long an unanswered query frees its slot. Default 1 s. */
  softTimeoutMs?: number;
  /** Most queries sent. Default 100. */
  maxQueries?: number;
  /** Stops the lookup early. */
  signal?: AbortSignal;
  /** Called with peers as they arrive (`get_peers`). */
  onPeers?: (peers: PeerAddress[]) => void;
}

/** One node that answered, with its token. */
export interface Responder {
  /** The node, with the id it answered with. */
  node: NodeContact;
  /** `get_peers`: the write token it gave. */
  token?: Uint8Array;
}

/** What a lookup found. */
export interface LookupResult {
  /** The closest nodes that answered, closest first (at most k). */
  closest: Responder[];
  /** Peers named (`get_peers`), each once. */
  peers: PeerAddress[];
  /** Queries sent. */
  queries: number;
  /** Answers received. */
  answers: number;
}

const MAX_CANDIDATES = 200;
const MAX_PEERS = 1000;

type State = "new" | "asking" | "slow" | "answered" | "failed";

interface Candidate {
  node: NodeContact;
  key: string;
  state: State;
  token?: Uint8Array;
}

/**
 * Runs one lookup to the end.
 *
 * @example A lookup over a made-up network of three nodes
 * ```ts
 * import { lookup } from "./_lookup.ts";
 *
 * const node = (n: number) => ({ id: new Uint8Array(20).fill(n), host: "10.0.0." + n, port: 6881 });
 * const result = await lookup({
 *   target: new Uint8Array(20).fill(3),
 *   seeds: [node(1)],
 *   ask: (asked) => Promise.resolve({ id: asked.id, nodes: [node(2), node(3)], peers: [] }),
 * });
 * console.log(result.closest[0].node.host, result.queries); // 10.0.0.3 3
 * ```
 */
export function lookup(options: LookupOptions): Promise<LookupResult> {
  const alpha = options.alpha ?? 3;
  const k = options.k ?? 8;
  const softMs = options.softTimeoutMs ?? 1000;
  const maxQueries = options.maxQueries ?? 100;
  const { target } = options;
  const candidates: Candidate[] = [];
  const known = new Set<string>();
  const peers = new Map<string, PeerAddress>();
  let queries = 0;
  let answers = 0;
  let pending = 0;

  const add = (node: NodeContact) => {
    const key = `${node.host}:${node.port}`;
    if (known.has(key) || node.id.length !== 20) return;
    known.add(key);
    candidates.push({ node, key, state: "new" });
  };
  for (const seed of options.seeds) add(seed);

  return new Promise<LookupResult>((resolve) => {
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      options.signal?.removeEventListener("abort", finish);
      resolve({
        closest: candidates.filter((c) => c.state === "answered").slice(0, k)
          .map((c) => ({ node: c.node, token: c.token })),
        peers: [...peers.values()],
        queries,
        answers,
      });
    };
    options.signal?.addEventListener("abort", finish, { once: true });

    const step = () => {
      if (finished) return;
      candidates.sort((a, b) => compareDistance(a.node.id, b.node.id, target));
      // Dead ends and the farthest go: the list stays bounded.
      for (let i = candidates.length - 1; i >= 0 && candidates.length > MAX_CANDIDATES; i--) {
        if (candidates[i].state !== "asking" && candidates[i].state !== "slow") {
          candidates.splice(i, 1);
        }
      }
      // Done when the k closest live candidates have all answered.
      let live = 0;
      let done = true;
      const wanted: Candidate[] = [];
      for (const candidate of candidates) {
        if (candidate.state === "failed") continue;
        if (live++ >= k) break;
        if (candidate.state !== "answered") done = false;
        if (candidate.state === "new") wanted.push(candidate);
      }
      if (done || (pending === 0 && wanted.length === 0)) return finish();
      let asking = candidates.filter((c) => c.state === "asking").length;
      for (const candidate of wanted) {
        if (asking >= alpha || queries >= maxQueries) break;
        ask(candidate);
        asking++;
      }
      if (pending === 0) finish();
    };

    const ask = (candidate: Candidate) => {
      candidate.state = "asking";
      queries++;
      pending++;
      const soft = setTimeout(() => {
        if (candidate.state === "asking") candidate.state = "slow";
        step();
      }, softMs);
      Promise.resolve().then(() => options.ask(candidate.node)).then((answer) => {
        clearTimeout(soft);
        pending--;
        if (finished) return;
        if (!answer) {
          candidate.state = "failed";
        } else {
          answers++;
          candidate.state = "answered";
          candidate.token = answer.token;
          candidate.node = { ...candidate.node, id: answer.id };
          for (const node of answer.nodes) add(node);
          const fresh: PeerAddress[] = [];
          for (const peer of answer.peers) {
            const key = `${peer.host}:${peer.port}`;
            if (peers.has(key) || peers.size >= MAX_PEERS) continue;
            peers.set(key, peer);
            fresh.push(peer);
          }
          // The caller's callback may throw: the lookup goes on, and nothing is left unowned.
          try {
            if (fresh.length > 0) options.onPeers?.(fresh);
          } catch {
            // Its error is the caller's; the lookup does not stop for it.
          }
        }
        step();
      }, () => {
        clearTimeout(soft);
        pending--;
        candidate.state = "failed";
        step();
      });
    };

    step();
  });
}
