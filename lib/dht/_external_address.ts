/**
 * Our address as other nodes see it (BEP 42: responses carry the
 * requester's address in `ip`). Each node gets one vote, the last 50
 * voters are remembered, and an address is believed once 3 of them agree
 * and it leads; a node id is then made to follow BEP 42 for it.
 *
 * @module
 */

import { setNewest } from "../util/_bounded.ts";

const VOTERS = 50;
const NEEDED = 3;

/** Votes on our external address. */
export class ExternalAddressVotes {
  readonly #votes = new Map<string, string>();
  #believed?: string;

  /** The address believed, when one is. */
  get address(): string | undefined {
    return this.#believed;
  }

  /**
   * `voter` (a node's address) says it sees us at `address`.
   *
   * @returns The newly believed address when this vote changed it.
   */
  vote(voter: string, address: string): string | undefined {
    setNewest(this.#votes, voter, address, VOTERS);
    const counts = new Map<string, number>();
    for (const seen of this.#votes.values()) counts.set(seen, (counts.get(seen) ?? 0) + 1);
    let best: string | undefined;
    let most = 0;
    for (const [seen, count] of counts) {
      if (count > most) [best, most] = [seen, count];
    }
    if (best === undefined || most < NEEDED || best === this.#believed) return undefined;
    this.#believed = best;
    return best;
  }
}
