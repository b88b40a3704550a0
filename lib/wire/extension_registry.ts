/**
 * The extension protocol's routing table (BEP 10): the extensions we speak,
 * each under a message id of our choosing (announced in our handshake's
 * `m`), and, per peer, the ids the peer chose for the extensions it speaks.
 * An `extended` message that arrives carries one of *our* ids; one we send
 * carries the *peer's* id for that extension.
 *
 * @module
 */

import type { BencodeValue } from "../bencode/types.ts";
import type { PeerMessage } from "./messages.ts";

/** Handshake keys that are the protocol's own, never an extension's. */
const RESERVED_KEYS = new Set(["m", "p", "v", "reqq", "yourip", "ipv4", "ipv6"]);

/** Whether an extension is on now. */
function isOn<P>(extension: PeerExtension<P>): boolean {
  return extension.enabled?.() ?? true;
}

/**
 * One extension of the extension protocol, for peers of type `P`.
 *
 * @typeParam P What a connected peer is to the code that owns the extension.
 */
export interface PeerExtension<P> {
  /** Its name in the handshake's `m` (`lt_donthave`, `ut_metadata`, …). */
  readonly name: string;
  /** Fields it adds to our extension handshake (`metadata_size` for ut_metadata). */
  handshakeFields?(): ReadonlyMap<string, BencodeValue>;
  /**
   * Whether we speak it now (default: always). One that is off keeps its
   * id, is announced with id 0 (BEP 10: disabled), adds no handshake
   * fields and has its messages ignored.
   */
  enabled?(): boolean;
  /**
   * One of its messages arrived from `peer` (the payload after the
   * extended message id).
   *
   * @throws {PeerError} A malformed message: the caller drops the peer.
   */
  onMessage(peer: P, payload: Uint8Array): void;
}

/**
 * The extensions we speak and the ids we receive them under: id 0 is the
 * handshake, the extensions take 1, 2, … in the order given.
 *
 * @typeParam P What a connected peer is to the extensions.
 *
 * @example Routing an extended message to its extension
 * ```ts
 * import { ExtensionRegistry } from "./extension_registry.ts";
 *
 * const registry = new ExtensionRegistry<string>([
 *   { name: "lt_donthave", onMessage: (peer, payload) => console.log(peer, payload.length) },
 * ]);
 * console.log(registry.localIds()); // Map(1) { "lt_donthave" => 1 }
 * registry.route("peer A", 1, new Uint8Array(4)); // peer A 4
 * console.log(registry.route("peer A", 7, new Uint8Array(4))); // false: not one of ours
 * // Sending: the peer's own id for the extension, from its handshake.
 * const theirs = new Map([["lt_donthave", 3]]);
 * console.log(ExtensionRegistry.message(theirs, "lt_donthave", new Uint8Array(4))?.id); // 3
 * ```
 */
export class ExtensionRegistry<P> {
  readonly #byId = new Map<number, PeerExtension<P>>();
  readonly #ids = new Map<string, number>();

  /**
   * Gives each extension its id.
   *
   * @param extensions The extensions, each with a distinct name.
   * @throws {RangeError} Two with one name, or more than 255.
   */
  constructor(extensions: readonly PeerExtension<P>[]) {
    if (extensions.length > 255) throw new RangeError("At most 255 extensions");
    for (const extension of extensions) {
      if (this.#ids.has(extension.name)) {
        throw new RangeError(`The extension ${extension.name} is registered twice`);
      }
      const id = this.#ids.size + 1;
      this.#ids.set(extension.name, id);
      this.#byId.set(id, extension);
    }
  }

  /** Our extension names and ids, for the `m` of our handshake (0 for one that is off). */
  localIds(): Map<string, number> {
    return new Map(
      [...this.#ids].map(([name, id]) => [name, isOn(this.#byId.get(id)!) ? id : 0]),
    );
  }

  /**
   * The fields the extensions add to our handshake, the first one's value
   * winning; the protocol's own keys (`m`, `p`, `v`, `reqq`, …) are never
   * taken from an extension.
   */
  handshakeFields(): Map<string, BencodeValue> {
    const fields = new Map<string, BencodeValue>();
    for (const extension of this.#byId.values()) {
      if (!isOn(extension)) continue;
      for (const [key, value] of extension.handshakeFields?.() ?? []) {
        if (!RESERVED_KEYS.has(key) && !fields.has(key)) fields.set(key, value);
      }
    }
    return fields;
  }

  /**
   * Hands an extended message (other than the handshake) to its extension.
   *
   * @returns False when `id` is none of ours, or its extension is off (BEP 10: ignored).
   * @throws {PeerError} What the extension throws for a malformed message.
   */
  route(peer: P, id: number, payload: Uint8Array): boolean {
    const extension = this.#byId.get(id);
    if (!extension || !isOn(extension)) return false;
    extension.onMessage(peer, payload);
    return true;
  }

  /**
   * The peer's ids after another handshake from it: BEP 10 handshakes add
   * to what came before, and id 0 takes an extension away.
   *
   * @param previous The ids known so far.
   * @param update The `m` of the new handshake.
   */
  static merge(
    previous: ReadonlyMap<string, number>,
    update: ReadonlyMap<string, number>,
  ): Map<string, number> {
    const merged = new Map(previous);
    for (const [name, id] of update) {
      if (id === 0) merged.delete(name);
      else merged.set(name, id);
    }
    return merged;
  }

  /**
   * The message that sends `payload` to a peer under its id for `name`, or
   * `undefined` when the peer does not speak it (absent from its `m`, or
   * id 0, which BEP 10 uses to say "disabled").
   *
   * @param theirs The ids from the peer's extension handshake.
   */
  static message(
    theirs: ReadonlyMap<string, number>,
    name: string,
    payload: Uint8Array,
  ): Extract<PeerMessage, { type: "extended" }> | undefined {
    const id = theirs.get(name);
    return id ? { type: "extended", id, payload } : undefined;
  }
}
