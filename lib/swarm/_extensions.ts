/**
 * The extensions a swarm speaks, in one fixed order: the ids a peer
 * learns in our first extension handshake (while the metadata is fetched)
 * stay right after the swarm that downloads takes the connection over.
 *
 * @module
 */

import { ExtensionRegistry } from "../wire/extension_registry.ts";
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

/** Our extensions, under the same ids in every swarm. */
export function ourExtensions(handlers: ExtensionHandlers): ExtensionRegistry<PeerSession> {
  return new ExtensionRegistry<PeerSession>([
    ltDontHave((peer, index) => handlers.dontHave(peer, index)),
    utMetadata(() => handlers.metadataSize(), (peer, message) => handlers.metadata(peer, message)),
  ]);
}
