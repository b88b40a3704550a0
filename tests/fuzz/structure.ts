/**
 * Mutations that know bencode: the input is decoded, one value in it is
 * replaced, one dictionary key renamed or one value copied elsewhere, and
 * the result encoded again. Byte-level mutations rarely keep a torrent
 * valid; these reach the code behind the decoder (file lists, names, paths,
 * tracker fields) with values at its edges.
 *
 * @module
 */

import { decodeWithDetails } from "../../lib/bencode/decode.ts";
import { encode } from "../../lib/bencode/encode.ts";
import type { BencodeValue } from "../../lib/bencode/types.ts";

const encoder = new TextEncoder();

/** A place in a decoded value: an item of a list or the value of a dictionary key. */
interface Slot {
  parent: BencodeValue[] | Map<string, BencodeValue>;
  key: number | string;
}

const MAX_SLOTS = 4096;

function collectSlots(value: BencodeValue, out: Slot[]): void {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length && out.length < MAX_SLOTS; i++) {
      out.push({ parent: value, key: i });
      collectSlots(value[i], out);
    }
  } else if (value instanceof Map) {
    for (const [key, item] of value) {
      if (out.length >= MAX_SLOTS) return;
      out.push({ parent: value, key });
      collectSlots(item, out);
    }
  }
}

function get(slot: Slot): BencodeValue {
  return slot.parent instanceof Map
    ? slot.parent.get(slot.key as string)!
    : slot.parent[slot.key as number];
}

function set(slot: Slot, value: BencodeValue): void {
  if (slot.parent instanceof Map) slot.parent.set(slot.key as string, value);
  else slot.parent[slot.key as number] = value;
}

const text = (value: string) => encoder.encode(value);

/** Values at the edges of what the readers of torrents, replies and handshakes take. */
export const REPLACEMENTS: readonly (() => BencodeValue)[] = [
  () => 0,
  () => 1,
  () => -1,
  () => 16384,
  () => 65535,
  () => 65536,
  () => 2 ** 31,
  () => 2 ** 32,
  () => Number.MAX_SAFE_INTEGER,
  () => 2n ** 53n,
  () => 2n ** 64n,
  () => -(2n ** 63n),
  () => text(""),
  () => text("."),
  () => text(".."),
  () => text("a/b"),
  () => text("..\\..\\x"),
  () => text("/etc/passwd"),
  () => text("CON"),
  () => text("con.txt"),
  () => text("nul.tar.gz"),
  () => text("COM\u00b9"),
  () => text("a."),
  () => text("a "),
  () => text("a:b*c?"),
  () => text("\x00"),
  () => text("\x1b[2J\x07"),
  () => text("\u202eexe.txt"),
  () => text("_____padding_file_0"),
  () => text(".pad"),
  () => text("x".repeat(255)),
  () => text("x".repeat(256)),
  () => text("x".repeat(254) + ".y"),
  () => text("x".repeat(254) + "." + "y".repeat(40)),
  () => text("x".repeat(254) + " " + "y".repeat(40)),
  () => text("é".repeat(128)),
  () => text("a. ".repeat(100)),
  () => text("http://tracker.example/announce"),
  () => text("udp://[::1]:6969"),
  () => new Uint8Array([0xff, 0xfe]),
  () => new Uint8Array([0xc3]),
  () => new Uint8Array([0xed, 0xa0, 0x80]),
  () => new Uint8Array(20),
  () => new Uint8Array(6).fill(1),
  () => new Uint8Array(18).fill(2),
  () => [],
  () => new Map(),
  () => [text("a"), text("..")],
  () => [[text("udp://a:1")], []],
  () => new Map<string, BencodeValue>([["path", [text("x")]], ["length", 1]]),
];

/** Dictionary keys the readers look up. */
export const KEYS: readonly string[] = [
  "info",
  "pieces",
  "piece length",
  "name",
  "name.utf-8",
  "length",
  "files",
  "path",
  "path.utf-8",
  "attr",
  "symlink path",
  "sha1",
  "private",
  "source",
  "meta version",
  "announce",
  "announce-list",
  "url-list",
  "httpseeds",
  "nodes",
  "creation date",
  "comment",
  "created by",
  "m",
  "p",
  "v",
  "reqq",
  "metadata_size",
  "peers",
  "peers6",
  "ip",
  "port",
  "peer id",
  "interval",
  "min interval",
  "complete",
  "incomplete",
  "downloaded",
  "failure reason",
  "warning message",
  "tracker id",
  "external ip",
];

/** A change to the decoded value; `slot` and the others are reduced modulo what they index. */
export type StructuralMutation =
  | { kind: "replace"; slot: number; value: number; bytes: Uint8Array }
  | { kind: "rename"; slot: number; key: number }
  | { kind: "copy"; slot: number; to: number };

/**
 * Applies a structural mutation, or returns the input unchanged when it is
 * not bencode (or holds no list or dictionary).
 */
export function mutateStructure(input: Uint8Array, mutation: StructuralMutation): Uint8Array {
  let root: BencodeValue;
  try {
    root = decodeWithDetails(input, { mode: "lenient", allowTrailing: true }).value;
  } catch {
    return input;
  }
  const slots: Slot[] = [];
  collectSlots(root, slots);
  if (slots.length === 0) return input;
  const slot = slots[mutation.slot % slots.length];
  switch (mutation.kind) {
    case "replace": {
      const pick = mutation.value % (REPLACEMENTS.length + 1);
      set(slot, pick === REPLACEMENTS.length ? mutation.bytes : REPLACEMENTS[pick]());
      break;
    }
    case "rename": {
      if (!(slot.parent instanceof Map)) return input;
      const value = get(slot);
      slot.parent.delete(slot.key as string);
      slot.parent.set(KEYS[mutation.key % KEYS.length], value);
      break;
    }
    case "copy": {
      const target = slots[mutation.to % slots.length];
      const value = get(slot);
      // A list gets the value as one more item (a file entry twice), a dictionary in the slot.
      if (Array.isArray(target.parent)) target.parent.push(value);
      else set(target, value);
      break;
    }
  }
  try {
    return encode(root);
  } catch {
    return input; // nested into itself past the encoder's depth limit
  }
}
