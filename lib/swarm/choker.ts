/**
 * The choking algorithm: which peers we upload to. A pure function of peer
 * statistics and time, so it can be tested without sockets.
 *
 * - While downloading: tit-for-tat. The interested peers that send us the
 *   most (download rate over the rate meter's window) get the regular
 *   upload slots (4 by default); peers that snub us (let our requests time
 *   out) get none.
 * - While seeding: the slots go to the interested peers we upload to
 *   fastest, in turns: a peer that has held a slot for a full round
 *   (`seedingTurnMs`) yields it to one that has waited longer. Waiting
 *   peers go in this order: those that have not wasted a turn lately
 *   (`wastedMemoryMs`), those whose IP has had fewer turns, those that
 *   have waited longest.
 * - In both: a peer that wastes its slot (holds it and asks for nothing,
 *   or takes nothing we send) loses it, and gets no optimistic unchoke
 *   while others are waiting.
 * - One more slot, the optimistic unchoke, moves on every 30 s (or as soon
 *   as its holder wastes it). It goes to the newest peer that has never
 *   had a slot, so a newcomer gets its first pieces at once however many
 *   connections came before it; when there is none, to a random interested
 *   choked peer, peers connected in the last minute 3 times as likely.
 *
 * The swarm calls it every 10 s and when a peer becomes interested.
 *
 * @module
 */

/** What the choker knows of one peer. */
export interface ChokerPeer {
  /** The peer's number. */
  id: number;
  /** The peer wants pieces from us. */
  interested: boolean;
  /** Bytes per second the peer sends us. */
  downloadRate: number;
  /** Bytes per second we send the peer. */
  uploadRate: number;
  /** The peer let our requests time out. */
  snubbed: boolean;
  /** When the peer connected (ms). */
  connectedAt: number;
  /** Whether we upload to it now. */
  unchoked: boolean;
  /** When it last got a slot (ms), if ever. */
  unchokedSince?: number;
  /** It holds a slot and does not use it (asks for nothing, or takes nothing): it loses it. */
  wasting?: boolean;
  /** When it last wasted a slot (ms): it waits behind every peer that has not. */
  wastedTurnAt?: number;
  /** Turns the peer's IP has had: among waiting peers, fewer goes first. */
  hostTurns?: number;
}

/** Settings of the choker. */
export interface ChokerOptions {
  /** Regular upload slots. Default 4. */
  slots?: number;
  /** How long an optimistic unchoke lasts, in ms. Default 30 s. */
  optimisticMs?: number;
  /** Peers connected more recently than this count as new. Default 60 s. */
  newPeerMs?: number;
  /** While seeding, how long a peer keeps a slot before others get their turn. Default 30 s. */
  seedingTurnMs?: number;
  /** How long a peer that wasted its slot waits behind the others. Default 5 minutes. */
  wastedMemoryMs?: number;
  /** Random numbers in [0, 1). Default `Math.random`. */
  random?: () => number;
}

/** What the choker remembers between rounds. */
export interface ChokerState {
  /** The peer holding the optimistic slot. */
  optimistic?: number;
  /** When it got it (ms). */
  optimisticSince?: number;
}

/** The choker's decision. */
export interface ChokeDecision {
  /** Peers to unchoke (everyone else is choked). */
  unchoke: Set<number>;
  /** The state for the next round. */
  state: ChokerState;
}

/**
 * Decides who is unchoked.
 *
 * @param peers Every connected peer.
 * @param seeding True when we have every piece.
 * @param state What the previous round decided.
 * @param now The time in ms.
 * @param options Slots and timings.
 */
export function choke(
  peers: readonly ChokerPeer[],
  seeding: boolean,
  state: ChokerState,
  now: number,
  options: ChokerOptions = {},
): ChokeDecision {
  const slots = options.slots ?? 4;
  const optimisticMs = options.optimisticMs ?? 30_000;
  const newPeerMs = options.newPeerMs ?? 60_000;
  const turnMs = options.seedingTurnMs ?? 30_000;
  const random = options.random ?? Math.random;
  const wastedMemoryMs = options.wastedMemoryMs ?? 300_000;
  const interested = peers.filter((peer) => peer.interested && !peer.wasting);
  const wastedLately = (peer: ChokerPeer) =>
    peer.wastedTurnAt !== undefined && now - peer.wastedTurnAt < wastedMemoryMs;

  let ranked: ChokerPeer[];
  if (seeding) {
    // Peers whose turn is not over come first, fastest first; then those waiting longest.
    const turnOver = (peer: ChokerPeer) =>
      peer.unchoked && peer.unchokedSince !== undefined && now - peer.unchokedSince >= turnMs;
    ranked = [...interested].sort((a, b) =>
      Number(turnOver(a)) - Number(turnOver(b)) ||
      Number(b.unchoked) - Number(a.unchoked) ||
      (a.unchoked ? 0 : Number(wastedLately(a)) - Number(wastedLately(b)) ||
        (a.hostTurns ?? 0) - (b.hostTurns ?? 0)) ||
      b.uploadRate - a.uploadRate ||
      (a.unchokedSince ?? 0) - (b.unchokedSince ?? 0) ||
      a.connectedAt - b.connectedAt
    );
  } else {
    ranked = interested.filter((peer) => !peer.snubbed).sort((a, b) =>
      b.downloadRate - a.downloadRate
    );
  }
  const unchoke = new Set(ranked.slice(0, slots).map((peer) => peer.id));

  let { optimistic, optimisticSince } = state;
  const current = interested.find((peer) => peer.id === optimistic);
  const expired = optimisticSince === undefined || now - optimisticSince >= optimisticMs;
  if (!current || expired || unchoke.has(current.id)) {
    const waiting = interested.filter((peer) => !unchoke.has(peer.id));
    const fresh = waiting.filter((peer) => !wastedLately(peer));
    const choices = fresh.length > 0 ? fresh : waiting;
    const candidates = choices.filter((peer) => peer.id !== optimistic);
    const pool = candidates.length > 0 ? candidates : choices;
    // The newest peer that has never had a slot goes first: it is not queued behind every
    // earlier connection (those that wasted a turn lately come after everyone else).
    const untried = pool.filter((peer) => peer.unchokedSince === undefined && !wastedLately(peer));
    const weights = pool.map((peer) => now - peer.connectedAt < newPeerMs ? 3 : 1);
    const total = weights.reduce((sum, w) => sum + w, 0);
    optimistic = untried.length > 0
      ? untried.reduce((a, b) => b.connectedAt > a.connectedAt ? b : a).id
      : undefined;
    let pick = random() * total;
    for (const [i, peer] of pool.entries()) {
      if (optimistic !== undefined) break;
      pick -= weights[i];
      if (pick < 0) {
        optimistic = peer.id;
        break;
      }
    }
    optimisticSince = optimistic === undefined ? undefined : now;
  }
  if (optimistic !== undefined) unchoke.add(optimistic);
  return { unchoke, state: { optimistic, optimisticSince } };
}
