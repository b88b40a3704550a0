/**
 * Fuzz targets of the peer wire: one message, the message stream, the
 * handshake, the extension handshake and extended messages.
 *
 * @module
 */

import { MAX_PIECES } from "../../lib/metainfo/limits.ts";
import { encodeDontHave, LT_DONTHAVE, ltDontHave } from "../../lib/extensions/lt_donthave.ts";
import { ExtensionRegistry } from "../../lib/wire/extension_registry.ts";
import {
  decodeExtensionHandshake,
  encodeExtensionHandshake,
  type ExtensionHandshake,
} from "../../lib/wire/extension_handshake.ts";
import { encodeHandshake, handshakeFeatures, readHandshake } from "../../lib/wire/handshake.ts";
import { decodeMessage, MessageReader } from "../../lib/wire/message_reader.ts";
import { BLOCK_SIZE, encodeMessage, maxMessageLength } from "../../lib/wire/messages.ts";
import { bytesEqual, concatBytes, utf8 } from "../../lib/util/_bytes.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { CAPTURE_PEER_INFO_HASH, CAPTURE_PEER_PIECES } from "./captures.ts";
import {
  extendedMessageSeeds,
  extensionHandshakeSeeds,
  handshakeSeeds,
  messageSeeds,
  messageStreamSeeds,
} from "./seeds.ts";
import { ChunkedSource, splitControl } from "./stream.ts";
import { attempt, type FuzzTarget, peerError } from "./target.ts";

/** message: decodeMessage of one message body, for a small torrent and the largest. */
function messageTarget(): FuzzTarget {
  const expected = peerError("protocol");
  return {
    name: "message",
    entry: "decodeMessage (lib/wire/message_reader.ts); encodeMessage",
    seeds: messageSeeds(),
    expected,
    run(input) {
      let accepted = false;
      for (const pieceCount of [CAPTURE_PEER_PIECES, MAX_PIECES]) {
        const message = attempt(() => decodeMessage(input, pieceCount), expected);
        if (message === undefined) continue;
        accepted = true;
        if (input.length > 0) {
          assert(input.length <= maxMessageLength(input[0], pieceCount), "over the size limit");
        }
        assert(bytesEqual(encodeMessage(message).subarray(4), input), "re-encoding differs");
      }
      return accepted;
    },
  };
}

const PIECE_COUNTS = [CAPTURE_PEER_PIECES, 1, 1000, MAX_PIECES];
const BUFFER_SIZES = [64, 64 * 1024, 100, 1024];

/**
 * message-stream: a MessageReader over a chunked stream, until it ends or
 * fails. Control bytes: piece count (bits 0–1) and block placement (bits
 * 4–5: none, in place, declined); read buffer size; chunking (two bytes).
 */
function messageStreamTarget(): FuzzTarget {
  return {
    name: "message-stream",
    entry: "MessageReader.run (lib/wire/message_reader.ts) over a ByteSource",
    seeds: messageStreamSeeds(),
    expected: peerError("protocol", "closed"),
    async run(input) {
      const { control, rest } = splitControl(input, 4);
      const pieceCount = PIECE_COUNTS[control[0] & 3];
      const placement = (control[0] >> 4) % 3;
      const source = new ChunkedSource(rest, control[2], control[3]);
      const pieceBuffer = new Uint8Array(BLOCK_SIZE);
      const received: Uint8Array[] = [];
      let reported = 0;
      const reader = new MessageReader(source, {
        pieceCount,
        bufferSize: BUFFER_SIZES[control[1] & 3],
        blockTarget: placement === 0
          ? undefined
          : (_index, _begin, length) =>
            placement === 1 && length <= BLOCK_SIZE ? pieceBuffer.subarray(0, length) : undefined,
        onRead: (n) => reported += n,
      });
      let failure: unknown;
      try {
        await reader.run((message) => {
          const bytes = encodeMessage(message);
          if (bytes.length > 4) {
            assert(bytes.length - 4 <= maxMessageLength(bytes[4], pieceCount), "over the limit");
          }
          received.push(bytes);
        });
      } catch (error) {
        failure = error;
      }
      const out = concatBytes(received);
      assert(bytesEqual(out, rest.subarray(0, out.length)), "messages differ from the stream");
      assert(reported === source.delivered, "onRead miscounted");
      if (failure !== undefined) throw failure;
      assert(out.length === rest.length, "the reader ended before the stream did");
      return true;
    },
  };
}

/**
 * handshake: readHandshake over a chunked stream, then the first messages
 * from the bytes read past it (as a connection does). Control bytes: expect
 * the capture's info hash (bit 0), chunking.
 */
function handshakeTarget(): FuzzTarget {
  return {
    name: "handshake",
    entry: "readHandshake (lib/wire/handshake.ts), then MessageReader with the rest",
    seeds: handshakeSeeds(),
    expected: peerError("handshake"),
    async run(input) {
      const { control, rest } = splitControl(input, 2);
      const expected = control[0] & 1 ? CAPTURE_PEER_INFO_HASH : undefined;
      const source = new ChunkedSource(rest, control[1], control[0]);
      const { handshake, rest: after } = await readHandshake(source, expected);
      const read = rest.subarray(0, source.delivered);
      assert(bytesEqual(concatBytes([encodeHandshake(handshake), after]), read), "handshake bytes");
      if (expected) assert(bytesEqual(handshake.infoHash, expected), "info hash not checked");
      handshakeFeatures(handshake.reserved);
      const reader = new MessageReader(source, { pieceCount: CAPTURE_PEER_PIECES }, after);
      try {
        await reader.run(() => {});
      } catch (error) {
        if (!peerError("protocol", "closed")(error)) throw error;
      }
      return true;
    },
  };
}

function checkExtensionHandshake(handshake: ExtensionHandshake): void {
  for (const id of handshake.extensions.values()) {
    assert(Number.isInteger(id) && id >= 0 && id <= 255, `extension id ${id}`);
  }
  const { listenPort, requestQueue, metadataSize, client } = handshake;
  assert(listenPort === undefined || (listenPort >= 1 && listenPort <= 65535), "listen port");
  assert(requestQueue === undefined || (requestQueue >= 1 && requestQueue <= 2048), "reqq");
  assert(metadataSize === undefined || (metadataSize >= 0 && metadataSize <= 64 << 20), "size");
  assert(client === undefined || client.length <= 100, "client name over 100 characters");
}

/** extension-handshake: decodeExtensionHandshake, and the result encoded and decoded again. */
function extensionHandshakeTarget(): FuzzTarget {
  return {
    name: "extension-handshake",
    entry: "decodeExtensionHandshake (lib/wire/extension_handshake.ts); encodeExtensionHandshake",
    seeds: extensionHandshakeSeeds(),
    expected: peerError("protocol"),
    run(input) {
      const handshake = decodeExtensionHandshake(input);
      checkExtensionHandshake(handshake);
      const again = decodeExtensionHandshake(encodeExtensionHandshake(handshake));
      const { client, ...rest } = handshake;
      const { client: clientAgain, ...restAgain } = again;
      assertEquals(restAgain, rest, "the handshake written back reads differently");
      if (client === undefined || utf8(client).length <= 100) assertEquals(clientAgain, client);
      return true;
    },
  };
}

/**
 * extended-message: an extended message body as the swarm handles it: id 0
 * is a handshake whose ids are merged into the peer's, any other id goes
 * through the ExtensionRegistry (lt_donthave is our id 1).
 */
function extendedMessageTarget(): FuzzTarget {
  return {
    name: "extended-message",
    entry: "ExtensionRegistry.route, .merge, .message (lib/wire/extension_registry.ts); " +
      "decodeDontHave (lib/extensions/lt_donthave.ts)",
    seeds: extendedMessageSeeds(),
    expected: peerError("protocol"),
    run(input) {
      if (input.length === 0) return false; // decodeMessage refuses an extended message this short
      const id = input[0];
      const payload = input.subarray(1);
      if (id === 0) {
        const handshake = decodeExtensionHandshake(payload);
        const theirs = ExtensionRegistry.merge(new Map([[LT_DONTHAVE, 7]]), handshake.extensions);
        for (const theirId of theirs.values()) assert(theirId >= 1 && theirId <= 255, "their id");
        const message = ExtensionRegistry.message(theirs, LT_DONTHAVE, encodeDontHave(1));
        const expected = theirs.get(LT_DONTHAVE);
        assertEquals(message?.type === "extended" ? message.id : undefined, expected, "send id");
        return true;
      }
      const taken: number[] = [];
      const registry = new ExtensionRegistry<string>([
        ltDontHave((_peer, index) => taken.push(index)),
      ]);
      const routed = registry.route("peer", id, payload);
      assert(routed === (id === registry.localIds().get(LT_DONTHAVE)), "routed to the wrong id");
      if (routed) {
        assert(taken.length === 1 && bytesEqual(encodeDontHave(taken[0]), payload), "index");
      }
      return routed;
    },
  };
}

/** The peer wire targets. */
export function peerTargets(): FuzzTarget[] {
  return [
    messageTarget(),
    messageStreamTarget(),
    handshakeTarget(),
    extensionHandshakeTarget(),
    extendedMessageTarget(),
  ];
}
