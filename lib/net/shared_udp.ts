/**
 * A UDP socket one part of a session owns and lends to another: the DHT
 * node's socket, which the UDP tracker client sends from too (as
 * libtorrent and Transmission do: one port, one NAT mapping). The owner
 * keeps the datagrams of its protocol and hands the others on: a KRPC
 * message is a bencoded dictionary (its first byte `d`), a UDP tracker
 * reply starts with a 32-bit action 0–3 (its first byte 0).
 *
 * @module
 */

import type { PeerAddress } from "./peer_address.ts";

/** A UDP socket (one per address family underneath) lent by its owner. */
export interface SharedUdp {
  /** Whether it can send to addresses of `family`. */
  reaches(family: 4 | 6): boolean;
  /**
   * Sends one datagram to `host:port` (an IP address).
   *
   * @throws {Error} When the socket is closed, or the system refuses the datagram.
   */
  send(datagram: Uint8Array, host: string, port: number): Promise<void>;
  /** Where the datagrams not of the owner's protocol go (one receiver; a new one replaces it). */
  lend(receiver: (datagram: Uint8Array, from: PeerAddress) => void): void;
}
