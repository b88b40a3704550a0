/**
 * Message stream encryption (MSE, also "protocol encryption"), both
 * sides: the obfuscated handshake Vuze defined and every
 * mainstream client speaks. aria2c, for one, tries it first on every
 * connection and only after a failed attempt (and a second's wait) falls
 * back to a plain handshake; Transmission and libtorrent can be set to
 * require it.
 *
 * The exchange, with A the dialling peer and B the answering one:
 * 1. A→B: Ya (Diffie-Hellman public key, 96 bytes), PadA (0–512 random bytes)
 * 2. B→A: Yb, PadB
 * 3. A→B: HASH("req1", S), HASH("req2", SKEY) xor HASH("req3", S),
 *    ENCRYPT(VC, crypto_provide, len(PadC), PadC, len(IA)), ENCRYPT(IA)
 * 4. B→A: ENCRYPT(VC, crypto_select, len(PadD), PadD), then the payload
 * where S is the shared secret, SKEY the torrent's info hash, VC eight zero
 * bytes, ENCRYPT RC4 keyed with HASH("keyA", S, SKEY) from A and
 * HASH("keyB", S, SKEY) from B, first 1024 bytes of keystream dropped. IA,
 * the initial payload, usually holds A's BitTorrent handshake. After step 4
 * the payload is RC4-encrypted, or plain when plaintext was selected.
 *
 * Every read here is bounded (a key, 532 bytes of padding and sync, 512 of
 * PadC, 64 KiB of IA), so a hostile peer cannot make memory grow.
 *
 * @module
 */

import { concatBytes } from "../util/_bytes.ts";
import { sha1 } from "../util/_sha1.ts";
import { PeerError } from "./errors.ts";
import { Rc4 } from "./_rc4.ts";
import { EncryptedStream, type PeerStream, PrefixedStream, writeFully } from "./stream.ts";

/** The 768-bit prime of the key exchange (generator 2). */
const PRIME = BigInt(
  "0xFFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74" +
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437" +
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563",
);
const KEY_BYTES = 96;
const MAX_PAD = 512;
const RC4_DROP = 1024;
/** `crypto_provide` / `crypto_select` bits. */
const CRYPTO_PLAINTEXT = 0x01;
const CRYPTO_RC4 = 0x02;

const text = (s: string) => new TextEncoder().encode(s);
const REQ1 = text("req1");
const REQ2 = text("req2");
const REQ3 = text("req3");
const KEY_A = text("keyA");
const KEY_B = text("keyB");

/** The outcome of an encrypted handshake, on either side. */
export interface EncryptedHandshake {
  /** The stream to run the BitTorrent protocol on, starting with the initial payload. */
  stream: PeerStream;
  /** The torrent the peer asked for (SKEY). */
  infoHash: Uint8Array;
  /** Whether the payload is RC4-encrypted (false: plaintext was selected). */
  rc4: boolean;
}

/** Our choice between the methods the peer offers. */
export type EncryptionPreference = "plaintext" | "rc4";

const PLAIN_START = text("\x13BitTorrent protocol");

/** Bytes needed to tell a plain handshake from an encrypted one. */
export const SNIFF_BYTES: number = PLAIN_START.length;

/**
 * Whether the first {@linkcode SNIFF_BYTES} bytes of a connection start a
 * plain handshake (19, "BitTorrent protocol") rather than an encrypted one,
 * whose first bytes are a random key.
 */
export function startsPlainHandshake(first: Uint8Array): boolean {
  return first.length >= PLAIN_START.length && PLAIN_START.every((byte, i) => first[i] === byte);
}

/**
 * Answers an encrypted handshake on a connection a peer opened.
 *
 * @param conn The connection.
 * @param received Bytes already read from it (the start of Ya).
 * @param infoHashes The torrents we serve; the peer's SKEY must be one of them.
 * @param prefer Which payload method to pick when the peer offers both. Default plaintext: the
 *   handshake is obfuscated either way and RC4 on every byte costs CPU for no secrecy.
 * @throws {PeerError} When the peer breaks the protocol or asks for a torrent we do not serve.
 */
export async function answerEncryptedHandshake(
  conn: PeerStream,
  received: Uint8Array,
  infoHashes: () => Iterable<Uint8Array>,
  prefer: EncryptionPreference = "plaintext",
): Promise<EncryptedHandshake> {
  const input = new HandshakeInput(conn, received);
  const theirKey = await readPublicKey(input);
  const { secretExponent, publicKey } = newKeyPair();
  await writeFully(conn, concatBytes([publicKey, randomPad()]));
  const secret = bigIntToBytes(modPow(theirKey, secretExponent, PRIME), KEY_BYTES);

  await input.skipTo(sha1(concatBytes([REQ1, secret])), MAX_PAD);
  const obfuscated = await input.take(20);
  const req3 = sha1(concatBytes([REQ3, secret]));
  const req2 = obfuscated.map((byte, i) => byte ^ req3[i]);
  const infoHash = findTorrent(req2, infoHashes());
  if (!infoHash) {
    throw new PeerError("handshake", "The peer asked (encrypted) for a torrent we do not have");
  }
  const decrypt = new Rc4(sha1(concatBytes([KEY_A, secret, infoHash])), RC4_DROP);
  const encrypt = new Rc4(sha1(concatBytes([KEY_B, secret, infoHash])), RC4_DROP);

  const header = decrypt.apply(await input.take(14));
  if (header.subarray(0, 8).some((byte) => byte !== 0)) {
    throw new PeerError("handshake", "The peer's encrypted handshake failed verification");
  }
  const view = new DataView(header.buffer, header.byteOffset);
  const provided = view.getUint32(8);
  await skipPadding(input, decrypt, view.getUint16(12));
  const initialLength = new DataView(decrypt.apply(await input.take(2)).buffer).getUint16(0);
  const initial = decrypt.apply(await input.take(initialLength));

  const selected = selectMethod(provided, prefer);
  const answer = new Uint8Array(14);
  new DataView(answer.buffer).setUint32(8, selected);
  await writeFully(conn, encrypt.apply(answer));

  const rc4 = selected === CRYPTO_RC4;
  const leftover = input.rest();
  const stream: PeerStream = rc4 ? new EncryptedStream(conn, decrypt, encrypt) : conn;
  const prefix = concatBytes([initial, rc4 ? decrypt.apply(leftover) : leftover]);
  return { stream: new PrefixedStream(stream, prefix), infoHash, rc4 };
}

/**
 * Opens an encrypted handshake on a connection we dialled, sending our
 * BitTorrent handshake as the initial payload.
 *
 * @param conn The connection.
 * @param infoHash The torrent (SKEY).
 * @param initialPayload What to send encrypted with the handshake (our BitTorrent handshake).
 * @param offer The payload methods we accept: RC4, plaintext, or both (the peer picks).
 * @throws {PeerError} When the peer does not answer the encrypted handshake correctly.
 */
export async function openEncryptedHandshake(
  conn: PeerStream,
  infoHash: Uint8Array,
  initialPayload: Uint8Array,
  offer: readonly EncryptionPreference[] = ["plaintext", "rc4"],
): Promise<EncryptedHandshake> {
  const { secretExponent, publicKey } = newKeyPair();
  await writeFully(conn, concatBytes([publicKey, randomPad()]));
  const input = new HandshakeInput(conn, new Uint8Array(0));
  const theirKey = await readPublicKey(input);
  const secret = bigIntToBytes(modPow(theirKey, secretExponent, PRIME), KEY_BYTES);
  const encrypt = new Rc4(sha1(concatBytes([KEY_A, secret, infoHash])), RC4_DROP);
  const decrypt = new Rc4(sha1(concatBytes([KEY_B, secret, infoHash])), RC4_DROP);
  const req2 = sha1(concatBytes([REQ2, infoHash]));
  const req3 = sha1(concatBytes([REQ3, secret]));
  const provided = (offer.includes("plaintext") ? CRYPTO_PLAINTEXT : 0) |
    (offer.includes("rc4") ? CRYPTO_RC4 : 0);
  const header = new Uint8Array(8 + 4 + 2 + 2);
  const view = new DataView(header.buffer);
  view.setUint32(8, provided);
  view.setUint16(14, initialPayload.length);
  await writeFully(
    conn,
    concatBytes([
      sha1(concatBytes([REQ1, secret])),
      req2.map((byte, i) => byte ^ req3[i]),
      encrypt.apply(header),
      encrypt.apply(initialPayload.slice()),
    ]),
  );
  // The answer starts after PadB with VC encrypted: find it.
  await input.skipTo(decrypt.apply(new Uint8Array(8)), MAX_PAD);
  const answer = decrypt.apply(await input.take(6));
  const answerView = new DataView(answer.buffer);
  const selected = answerView.getUint32(0);
  if (selected !== CRYPTO_PLAINTEXT && selected !== CRYPTO_RC4 || !(selected & provided)) {
    throw new PeerError("handshake", `The peer selected an encryption method we did not offer`);
  }
  await skipPadding(input, decrypt, answerView.getUint16(4));
  const rc4 = selected === CRYPTO_RC4;
  const leftover = input.rest();
  const stream: PeerStream = rc4 ? new EncryptedStream(conn, decrypt, encrypt) : conn;
  return {
    stream: new PrefixedStream(stream, rc4 ? decrypt.apply(leftover) : leftover),
    infoHash,
    rc4,
  };
}

/** Reads and deciphers (to keep the cipher in step) `length` bytes of padding, at most 512. */
async function skipPadding(input: HandshakeInput, decrypt: Rc4, length: number): Promise<void> {
  if (length > MAX_PAD) {
    throw new PeerError("handshake", `The peer sent ${length} bytes of padding (most ${MAX_PAD})`);
  }
  decrypt.apply(await input.take(length));
}

function selectMethod(provided: number, prefer: EncryptionPreference): number {
  const plaintext = (provided & CRYPTO_PLAINTEXT) !== 0;
  const rc4 = (provided & CRYPTO_RC4) !== 0;
  if (plaintext && (prefer === "plaintext" || !rc4)) return CRYPTO_PLAINTEXT;
  if (rc4) return CRYPTO_RC4;
  throw new PeerError(
    "handshake",
    `The peer offers no encryption method we know (crypto_provide ${provided})`,
  );
}

function findTorrent(req2: Uint8Array, infoHashes: Iterable<Uint8Array>): Uint8Array | undefined {
  for (const infoHash of infoHashes) {
    const expected = sha1(concatBytes([REQ2, infoHash]));
    if (expected.every((byte, i) => byte === req2[i])) return infoHash;
  }
  return undefined;
}

/** Reads a handshake in exact amounts, keeping what arrives beyond them. */
class HandshakeInput {
  readonly #conn: PeerStream;
  #buffer: Uint8Array;
  #start = 0;
  #end: number;

  constructor(conn: PeerStream, received: Uint8Array) {
    this.#conn = conn;
    this.#buffer = new Uint8Array(Math.max(4096, received.length));
    this.#buffer.set(received);
    this.#end = received.length;
  }

  /** The next `length` bytes (a copy). */
  async take(length: number): Promise<Uint8Array> {
    await this.#fill(length);
    const out = this.#buffer.slice(this.#start, this.#start + length);
    this.#start += length;
    return out;
  }

  /** Skips up to `most` bytes, then past `marker`. */
  async skipTo(marker: Uint8Array, most: number): Promise<void> {
    for (let skipped = 0; skipped <= most; skipped++) {
      await this.#fill(marker.length);
      const at = this.#start;
      if (marker.every((byte, i) => this.#buffer[at + i] === byte)) {
        this.#start += marker.length;
        return;
      }
      this.#start++;
    }
    throw new PeerError("handshake", "The peer's encrypted handshake never synchronised");
  }

  /** Whatever was read beyond the last take. */
  rest(): Uint8Array {
    return this.#buffer.slice(this.#start, this.#end);
  }

  async #fill(length: number): Promise<void> {
    if (this.#end - this.#start >= length) return;
    if (this.#start + length > this.#buffer.length) {
      const grown = new Uint8Array(Math.max(this.#buffer.length, length + 4096));
      grown.set(this.#buffer.subarray(this.#start, this.#end));
      this.#end -= this.#start;
      this.#start = 0;
      this.#buffer = grown;
    }
    while (this.#end - this.#start < length) {
      const n = await this.#conn.read(this.#buffer.subarray(this.#end));
      if (n === null) {
        throw new PeerError("handshake", "The peer closed the connection during the handshake");
      }
      this.#end += n;
    }
  }
}

/** A fresh Diffie-Hellman key pair: a 160-bit secret exponent and 2^secret mod P. */
function newKeyPair(): { secretExponent: bigint; publicKey: Uint8Array } {
  const secretExponent = bytesToBigInt(crypto.getRandomValues(new Uint8Array(20)));
  return { secretExponent, publicKey: bigIntToBytes(modPow(2n, secretExponent, PRIME), KEY_BYTES) };
}

/** The peer's public key, refused when it is degenerate (1, P-1 or out of range). */
async function readPublicKey(input: HandshakeInput): Promise<bigint> {
  const key = bytesToBigInt(await input.take(KEY_BYTES));
  if (key <= 1n || key >= PRIME - 1n) {
    throw new PeerError("handshake", "The peer sent an invalid encryption key");
  }
  return key;
}

function randomPad(): Uint8Array {
  const length = crypto.getRandomValues(new Uint16Array(1))[0] % (MAX_PAD + 1);
  return crypto.getRandomValues(new Uint8Array(length));
}

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  base %= modulus;
  while (exponent > 0n) {
    if (exponent & 1n) result = (result * base) % modulus;
    base = (base * base) % modulus;
    exponent >>= 1n;
  }
  return result;
}

function bytesToBigInt(bytes: Uint8Array): bigint {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

function bigIntToBytes(value: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  return out;
}
