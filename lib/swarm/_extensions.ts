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
import { type MetadataMessage, utMetadata } from "../extensions/ut_metadata.ts";
import type { PeerSession } from "./peer_session.ts";

/** What each extension does with what arrives. */
export interface ExtensionHandlers {
  /** lt_donthave: the peer no longer has piece `index` (not checked against the piece count). */
  dontHave(peer: PeerSession, index: number): void;
  /** ut_metadata: a request, data or reject. */
  metadata(peer: PeerSession, message: MetadataMessage): void;
  /** The size of the info dictionary we serve, once we have it. */
  metadataSize(): number | undefined;
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

/** Our extensions, under the same ids in every swarm. */
export function ourExtensions(handlers: ExtensionHandlers): ExtensionRegistry<PeerSession> {
  return new ExtensionRegistry<PeerSession>([
    ltDontHave((peer, index) => handlers.dontHave(peer, index)),
    utMetadata(() => handlers.metadataSize(), (peer, message) => handlers.metadata(peer, message)),
  ]);
}
