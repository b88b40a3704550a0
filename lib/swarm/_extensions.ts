/**
 * The extensions a swarm speaks, in one fixed order: the ids a peer
 * learns in our first extension handshake (while the metadata is fetched)
 * stay right after the swarm that downloads takes the connection over.
 *
 * @module
 */

import { ExtensionRegistry } from "../wire/extension_registry.ts";
import { encodeExtensionHandshake } from "../wire/extension_handshake.ts";
import { VERSION } from "../version.ts";
import { OUR_REQUEST_QUEUE } from "./_uploads.ts";
import { ltDontHave } from "../extensions/lt_donthave.ts";
import {
  encodeMetadataMessage,
  type MetadataMessage,
  UT_METADATA,
  utMetadata,
} from "../extensions/ut_metadata.ts";
import { type PexMessage, utPex } from "../extensions/ut_pex.ts";
import type { ExtensionHandshake } from "../wire/extension_handshake.ts";
import type { PeerPool } from "../discovery/peer_pool.ts";
import type { PeerSession } from "./peer_session.ts";

/** What each extension does with what arrives. */
export interface ExtensionHandlers {
  /** lt_donthave: the peer no longer has piece `index` (not checked against the piece count). */
  dontHave(peer: PeerSession, index: number): void;
  /** ut_metadata: a request, data or reject. */
  metadata(peer: PeerSession, message: MetadataMessage): void;
  /** The size of the info dictionary we serve, once we have it. */
  metadataSize(): number | undefined;
  /** ut_pex: the peers a peer names. */
  pex(peer: PeerSession, message: PexMessage): void;
  /** Whether we exchange peers now (never for a private torrent). */
  pexEnabled(): boolean;
}

/**
 * Sends our extension handshake (BEP 10) to a peer that speaks the
 * extension protocol: our ids, client, listen port, request queue, and
 * what the extensions add (`metadata_size` once we have the metadata).
 */
export function sendExtensionHandshake(
  peer: PeerSession,
  registry: ExtensionRegistry<PeerSession>,
  listenPort: number,
): void {
  if (!peer.connection.features.extensions) return;
  peer.send({
    type: "extended",
    id: 0,
    payload: encodeExtensionHandshake({
      extensions: registry.localIds(),
      client: `shoal ${VERSION}`,
      listenPort: listenPort || undefined,
      requestQueue: OUR_REQUEST_QUEUE,
    }, registry.handshakeFields()),
  });
}

/** Sends a ut_metadata message under the peer's id for it; nothing when it does not speak it. */
export function sendMetadataMessage(peer: PeerSession, message: MetadataMessage): void {
  const framed = ExtensionRegistry.message(
    peer.extensions,
    UT_METADATA,
    encodeMetadataMessage(message),
  );
  if (framed) peer.send(framed);
}

/**
 * A peer that dialled in is known in the pool by its listen port from its
 * extension handshake on, not by its source port.
 */
export function learnListenPort(
  peer: PeerSession,
  handshake: ExtensionHandshake,
  pool: PeerPool,
): void {
  if (
    handshake.listenPort && peer.connection.direction === "incoming" &&
    peer.poolKey === peer.key
  ) {
    peer.poolKey = pool.listensOn(peer.poolKey, handshake.listenPort);
  }
}

/** Our extensions, under the same ids in every swarm. */
export function ourExtensions(handlers: ExtensionHandlers): ExtensionRegistry<PeerSession> {
  return new ExtensionRegistry<PeerSession>([
    ltDontHave((peer, index) => handlers.dontHave(peer, index)),
    utMetadata(() => handlers.metadataSize(), (peer, message) => handlers.metadata(peer, message)),
    utPex((peer, message) => handlers.pex(peer, message), () => handlers.pexEnabled()),
  ]);
}
