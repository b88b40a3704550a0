/**
 * Extensions of the peer protocol that plug into the extension protocol
 * (BEP 10) through the `ExtensionRegistry` of `lib/wire`: each is a
 * `PeerExtension` with its own message encoding.
 *
 * @example A DontHave message and back
 * ```ts
 * import { decodeDontHave, encodeDontHave } from "./mod.ts";
 *
 * console.log(decodeDontHave(encodeDontHave(7))); // 7
 * ```
 *
 * @module
 */

export { decodeDontHave, encodeDontHave, LT_DONTHAVE, ltDontHave } from "./lt_donthave.ts";
export {
  decodeMetadataMessage,
  encodeMetadataMessage,
  METADATA_PIECE_SIZE,
  type MetadataMessage,
  metadataPieceCount,
  metadataPieceLength,
  UT_METADATA,
  utMetadata,
} from "./ut_metadata.ts";
export {
  decodePexMessage,
  encodePexMessage,
  PexFlags,
  type PexMessage,
  type PexPeer,
  UT_PEX,
  utPex,
} from "./ut_pex.ts";
