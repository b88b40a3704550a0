/**
 * One peer connection: dialling and answering the handshake, the read loop,
 * a write queue that batches small messages, and the liveness rules (idle
 * peers are dropped, keep-alives are sent when we have been quiet).
 *
 * The connection knows the wire, not the torrent: what messages mean is
 * decided by whoever owns it (the swarm).
 *
 * @module
 */

import { formatPeerAddress, type PeerAddress } from "../net/peer_address.ts";
import { bytesEqual, concatBytes } from "../util/_bytes.ts";
import { PeerError } from "./errors.ts";
import {
  encodeHandshake,
  type Handshake,
  type HandshakeFeatures,
  handshakeFeatures,
  ourReservedBytes,
  readHandshake,
} from "./handshake.ts";
import {
  answerEncryptedHandshake,
  type EncryptionPreference,
  openEncryptedHandshake,
  SNIFF_BYTES,
  startsPlainHandshake,
} from "./mse.ts";
import { type PeerStream, PrefixedStream, writeFully } from "./stream.ts";
import { type IncomingStream, tcpTransport, type Transport } from "./transport.ts";
import { permissionError, permissionRefusal } from "../errors.ts";
import { MessageReader, type ReceivedMessage } from "./message_reader.ts";
import { encodeMessage, type PeerMessage } from "./messages.ts";

/** Timeouts of a peer connection, in milliseconds. */
export interface PeerTimeouts {
  /** Longest wait for the TCP connection. Default 10 s. */
  connectMs?: number;
  /** Longest wait for the peer's handshake. Default 10 s. */
  handshakeMs?: number;
  /** Longest wait for the first byte of a peer that dialled us (a much shorter deadline than the whole handshake's). Default 3 s. */
  firstByteMs?: number;
  /** A peer that sends nothing for this long is dropped. Default 3 minutes. */
  idleMs?: number;
  /** A keep-alive is sent after this long without sending anything. Default 2 minutes. */
  keepAliveMs?: number;
  /** A peer that takes none of what we send for this long (it stopped reading) is dropped. Default 60 s. */
  sendStallMs?: number;
}

/** What both ends of a connection need to agree on. */
export interface HandshakeOptions {
  /** The torrent's info hash. */
  infoHash: Uint8Array;
  /** Our peer id; a peer answering with it is ourselves and is refused. */
  peerId: Uint8Array;
  /** Timeouts. */
  timeouts?: PeerTimeouts;
  /** Aborts the attempt. */
  signal?: AbortSignal;
  /**
   * Dial with an encrypted (MSE) handshake offering these payload methods;
   * a plain handshake when absent. Only for connections we open.
   */
  encrypt?: readonly EncryptionPreference[];
  /** How to open the connection, for connections we open. Default: TCP from any local address. */
  transport?: Transport;
  /** Set the DHT bit of the handshake (BEP 5): we run a DHT node and send PORT. */
  dht?: boolean;
}

/** How the owner of a connection receives what the peer sends. */
export interface PeerHandlers {
  /** Each message, in order; views inside are valid until it returns. */
  onMessage(message: ReceivedMessage): void;
  /** See {@linkcode MessageReaderOptions.blockTarget}. */
  blockTarget?(index: number, begin: number, length: number): Uint8Array | undefined;
  /** See {@linkcode MessageReaderOptions.throttle}. */
  throttle?(bytes: number): Promise<void>;
}

const DEFAULT_CONNECT_MS = 10_000;
const DEFAULT_HANDSHAKE_MS = 10_000;
const DEFAULT_FIRST_BYTE_MS = 3_000;
const DEFAULT_IDLE_MS = 180_000;
const DEFAULT_KEEP_ALIVE_MS = 120_000;
const DEFAULT_SEND_STALL_MS = 60_000;
/**
 * Bytes waiting to be sent to a peer above which we stop reading from it:
 * whatever it sends (requests, each earning a block or a reject) waits in
 * its own socket until it takes what we owe it.
 */
export const READ_PAUSE_BYTES = 1024 * 1024;
/** Bytes waiting to be sent to a peer above which it is dropped (it cannot grow past this while we do not read it). */
export const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

/**
 * Runs `work` until it ends, `ms` pass (rejects with `onTimeout()`) or
 * `outer` aborts (rejects at once; the caller closes what `work` opened).
 */
async function withTimeout<T>(
  work: (signal: AbortSignal) => Promise<T>,
  ms: number,
  onTimeout: () => PeerError,
  outer?: AbortSignal,
): Promise<T> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let abort = () => {};
  const ended = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(onTimeout());
    }, ms);
    abort = () => {
      controller.abort();
      reject(new PeerError("closed", "The connection attempt was cancelled"));
    };
    if (outer?.aborted) abort();
    else outer?.addEventListener("abort", abort, { once: true });
  });
  try {
    return await Promise.race([work(controller.signal), ended]);
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener("abort", abort);
  }
}

/**
 * Dials a peer and exchanges handshakes.
 *
 * @param address Where the peer listens.
 * @param options Info hash, our peer id, timeouts.
 * @returns The open connection, not yet reading.
 * @throws {PeerError} On connection failure, timeout, a wrong info hash or a connection to ourselves.
 */
export async function connectToPeer(
  address: PeerAddress,
  options: HandshakeOptions,
): Promise<PeerConnection> {
  const label = formatPeerAddress(address);
  const transport = options.transport ?? tcpTransport;
  const conn = await withTimeout(
    async (signal) => {
      try {
        return await transport(address, signal);
      } catch (error) {
        const refusal = permissionRefusal(error);
        const reason = refusal
          ? permissionError(refusal, `Could not connect to ${label}`).message
          : `Could not connect to ${label}: ${(error as Error).message}`;
        throw new PeerError("connect", reason, { cause: error });
      }
    },
    options.timeouts?.connectMs ?? DEFAULT_CONNECT_MS,
    () => new PeerError("timeout", `Connecting to ${label} timed out`),
    options.signal,
  );
  try {
    return await handshakeOn(conn, label, options, "outgoing");
  } catch (error) {
    closeQuietly(conn);
    throw error;
  }
}

/** How a connection's bytes travel. */
export type PeerEncryption =
  /** A plain BitTorrent handshake and payload. */
  | "none"
  /** An encrypted (MSE) handshake, then plaintext payload, as the peer offered. */
  | "handshake"
  /** An encrypted handshake and RC4 on every byte. */
  | "rc4";

/** Options of {@linkcode acceptPeer}. */
export interface AcceptOptions {
  /** Handshake timeout and the connection's timeouts. */
  timeouts?: PeerTimeouts;
  /**
   * The info hashes we serve, for answering encrypted (MSE) handshakes, in
   * which the peer names its torrent only by a hash of it. Without it,
   * encrypted handshakes are refused.
   */
  infoHashes?: () => Iterable<Uint8Array>;
}

/**
 * Answers a peer that dialled us: reads its handshake (plain, or encrypted
 * when `options.infoHashes` is given), asks `lookup` for the torrent it
 * wants, and replies.
 *
 * @param conn The accepted connection.
 * @param lookup Our handshake settings for an info hash, or `undefined` when we do not have that torrent.
 * @returns The open connection and the info hash it is for.
 */
export async function acceptPeer(
  conn: IncomingStream,
  lookup: (infoHash: Uint8Array) => HandshakeOptions | undefined,
  options: AcceptOptions = {},
): Promise<PeerConnection> {
  const label = formatPeerAddress(conn.remote);
  try {
    const { stream, encryption, infoHash, handshake, rest } = await withTimeout(
      async () => {
        const firstByteMs = options.timeouts?.firstByteMs ?? DEFAULT_FIRST_BYTE_MS;
        const opened = await openIncoming(conn, label, options.infoHashes, firstByteMs);
        const { handshake, rest } = await readHandshake(opened.stream, opened.infoHash);
        return { ...opened, handshake, rest };
      },
      options.timeouts?.handshakeMs ?? DEFAULT_HANDSHAKE_MS,
      () => new PeerError("timeout", `${label} sent no handshake in time`),
    );
    const ours = lookup(infoHash ?? handshake.infoHash);
    if (!ours) throw new PeerError("handshake", `${label} asked for a torrent we do not have`);
    const reply = encodeHandshake({ reserved: ourReservedBytes({ dht: ours.dht }), ...ours });
    if (bytesEqual(handshake.peerId, ours.peerId)) {
      // Answer anyway: the dialling side (us too) then sees its own peer id and stops dialling it.
      await writeFully(stream, reply).catch(() => {});
      throw new PeerError("self", "Connected to ourselves");
    }
    await writeFully(stream, reply);
    return new PeerConnection(
      stream,
      label,
      handshake,
      rest,
      "incoming",
      ours.timeouts,
      encryption,
    );
  } catch (error) {
    closeQuietly(conn);
    throw error;
  }
}

/** Tells a plain handshake from an encrypted one and answers the latter. */
async function openIncoming(
  conn: PeerStream,
  label: string,
  infoHashes: (() => Iterable<Uint8Array>) | undefined,
  firstByteMs: number,
): Promise<{ stream: PeerStream; encryption: PeerEncryption; infoHash?: Uint8Array }> {
  const first = new Uint8Array(SNIFF_BYTES);
  let filled = 0;
  while (filled < first.length) {
    const n = filled === 0
      ? await firstRead(conn, first, label, firstByteMs)
      : await conn.read(first.subarray(filled));
    if (n === null) {
      throw new PeerError("handshake", "The peer closed the connection during the handshake");
    }
    filled += n;
  }
  if (startsPlainHandshake(first)) {
    return { stream: new PrefixedStream(conn, first), encryption: "none" };
  }
  if (!infoHashes) {
    throw new PeerError("handshake", `${label} does not speak the BitTorrent protocol`);
  }
  const answered = await answerEncryptedHandshake(conn, first, infoHashes);
  return { ...answered, encryption: answered.rc4 ? "rc4" : "handshake" };
}

/** The first read of an incoming connection, which must bring something within `ms`. */
async function firstRead(
  conn: PeerStream,
  into: Uint8Array,
  label: string,
  ms: number,
): Promise<number | null> {
  const read = conn.read(into);
  read.catch(() => {}); // When the deadline wins, the caller closes the connection and the read fails.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new PeerError("timeout", `${label} sent nothing for ${ms / 1000} s`)),
      ms,
    );
  });
  try {
    return await Promise.race([read, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function handshakeOn(
  conn: PeerStream,
  label: string,
  options: HandshakeOptions,
  direction: "outgoing" | "incoming",
): Promise<PeerConnection> {
  const ours = encodeHandshake({
    reserved: ourReservedBytes({ dht: options.dht }),
    infoHash: options.infoHash,
    peerId: options.peerId,
  });
  const { stream, encryption, handshake, rest } = await withTimeout(
    async () => {
      let stream: PeerStream = conn;
      let encryption: PeerEncryption = "none";
      if (options.encrypt) {
        const opened = await openEncryptedHandshake(conn, options.infoHash, ours, options.encrypt);
        stream = opened.stream;
        encryption = opened.rc4 ? "rc4" : "handshake";
      } else {
        await writeFully(conn, ours);
      }
      return { stream, encryption, ...await readHandshake(stream, options.infoHash) };
    },
    options.timeouts?.handshakeMs ?? DEFAULT_HANDSHAKE_MS,
    () => new PeerError("timeout", `${label} did not answer the handshake in time`),
    options.signal,
  );
  if (bytesEqual(handshake.peerId, options.peerId)) {
    throw new PeerError("self", "Connected to ourselves");
  }
  return new PeerConnection(
    stream,
    label,
    handshake,
    rest,
    direction,
    options.timeouts,
    encryption,
  );
}

function closeQuietly(conn: PeerStream): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

/** An open, handshaken connection to one peer. */
export class PeerConnection {
  /** `host:port` of the peer, for logs and keys. */
  readonly label: string;
  /** Who dialled. */
  readonly direction: "outgoing" | "incoming";
  /** The peer's handshake. */
  readonly handshake: Handshake;
  /** Features the peer's reserved bits announce. */
  readonly features: HandshakeFeatures;
  /** Bytes received since the handshake. */
  bytesReceived = 0;
  /** Bytes sent since the handshake. */
  bytesSent = 0;
  /** How its bytes travel (plain, or after an encrypted handshake). */
  readonly encryption: PeerEncryption;
  readonly #conn: PeerStream;
  readonly #initial: Uint8Array;
  readonly #idleMs: number;
  readonly #keepAliveMs: number;
  readonly #sendStallMs: number;
  #queue: Uint8Array[] = [];
  /** Resolves the reader's wait once the send queue is below {@linkcode READ_PAUSE_BYTES}. */
  #belowPause: PromiseWithResolvers<void> | undefined;
  #queuedBytes = 0;
  #flushing = false;
  #lastReceived = Date.now();
  #lastSent = Date.now();
  #closed = false;
  #reader?: MessageReader;
  #closeError: PeerError | undefined;
  readonly #whenClosed = Promise.withResolvers<void>();

  /** Use {@linkcode connectToPeer} or {@linkcode acceptPeer}. */
  constructor(
    conn: PeerStream,
    label: string,
    handshake: Handshake,
    initial: Uint8Array,
    direction: "outgoing" | "incoming",
    timeouts: PeerTimeouts = {},
    encryption: PeerEncryption = "none",
  ) {
    this.#conn = conn;
    this.encryption = encryption;
    this.label = label;
    this.handshake = handshake;
    this.features = handshakeFeatures(handshake.reserved);
    this.direction = direction;
    this.#initial = initial;
    this.#idleMs = timeouts.idleMs ?? DEFAULT_IDLE_MS;
    this.#keepAliveMs = timeouts.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS;
    this.#sendStallMs = timeouts.sendStallMs ?? DEFAULT_SEND_STALL_MS;
  }

  /** True once closed by either side. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Resolves when the connection closes (for waits that must end with it). */
  get whenClosed(): Promise<void> {
    return this.#whenClosed.promise;
  }

  /** Called when everything queued has been handed to the socket. */
  onDrain?: () => void;

  /** When the socket last took bytes from us, or when bytes were queued after a quiet spell (ms). */
  get lastSentAt(): number {
    return this.#lastSent;
  }

  /** Bytes queued or being written, not yet handed to the socket. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /**
   * The torrent's piece count, once known when the connection started
   * without it (fetching metadata): it bounds the bitfield from the next
   * message on.
   */
  set pieceCount(count: number) {
    if (this.#reader) this.#reader.pieceCount = count;
  }

  /**
   * Reads messages until the connection ends.
   *
   * @param handlers Where messages go.
   * @param pieceCount The torrent's piece count (bounds the bitfield); unknown while metadata is fetched.
   * @returns Resolves when the connection is closed; with the error that closed it, if any.
   */
  async run(handlers: PeerHandlers, pieceCount?: number): Promise<PeerError | undefined> {
    const reader = this.#reader = new MessageReader(this.#conn, {
      pieceCount,
      // Once closed, no more blocks are read into the owner's buffers: their messages
      // would not be delivered, so the owner could not tell the placement ended.
      blockTarget: handlers.blockTarget
        ? (index, begin, length) =>
          this.#closed ? undefined : handlers.blockTarget!(index, begin, length)
        : undefined,
      // A wait for the rate limit ends when the connection closes, so closing is prompt;
      // and nothing more is read while the peer does not take what we send it.
      throttle: async (bytes) => {
        if (handlers.throttle) {
          await Promise.race([handlers.throttle(bytes), this.#whenClosed.promise]);
        }
        if (this.#queuedBytes > READ_PAUSE_BYTES && !this.#closed) {
          this.#belowPause ??= Promise.withResolvers<void>();
          await this.#belowPause.promise;
        }
      },
      onRead: (n) => {
        this.bytesReceived += n;
        this.#lastReceived = Date.now();
      },
    }, this.#initial);
    try {
      await reader.run((message) => {
        if (!this.#closed) handlers.onMessage(message);
      });
      this.close(new PeerError("closed", `${this.label} closed the connection`));
    } catch (error) {
      this.close(
        error instanceof PeerError ? error : new PeerError(
          "closed",
          `Connection to ${this.label} failed: ${(error as Error).message}`,
          {
            cause: error,
          },
        ),
      );
    }
    return this.#closeError;
  }

  /**
   * Queues a message; messages queued in the same turn go out in one write.
   * A peer whose queue would pass {@linkcode MAX_QUEUED_BYTES} is dropped.
   */
  send(message: PeerMessage): void {
    if (this.#closed) return;
    const bytes = encodeMessage(message);
    if (this.#queuedBytes + bytes.length > MAX_QUEUED_BYTES) {
      this.close(
        new PeerError(
          "timeout",
          `${this.label} does not take what we send (${MAX_QUEUED_BYTES >> 20} MiB waiting)`,
        ),
      );
      return;
    }
    if (this.#queuedBytes === 0) this.#lastSent = Date.now(); // The stall clock starts now.
    this.#queue.push(bytes);
    this.#queuedBytes += bytes.length;
    if (!this.#flushing) {
      this.#flushing = true;
      queueMicrotask(() => this.#flush());
    }
  }

  async #flush(): Promise<void> {
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        const parts = this.#queue;
        this.#queue = [];
        const bytes = parts.length === 1 ? parts[0] : concatBytes(parts);
        for (let written = 0; written < bytes.length;) {
          const n = await this.#conn.write(bytes.subarray(written));
          written += n;
          this.#queuedBytes -= n;
          this.bytesSent += n;
          this.#lastSent = Date.now();
          if (this.#queuedBytes <= READ_PAUSE_BYTES) this.#resumeReading();
        }
      }
      if (!this.#closed) queueMicrotask(() => this.onDrain?.());
    } catch (error) {
      this.close(
        new PeerError("closed", `Sending to ${this.label} failed: ${(error as Error).message}`),
      );
    } finally {
      this.#flushing = false;
    }
  }

  /**
   * Applies the liveness rules; call about once a second.
   *
   * @param now The current time in ms.
   */
  tick(now: number = Date.now()): void {
    if (this.#closed) return;
    if (now - this.#lastReceived > this.#idleMs) {
      this.close(
        new PeerError(
          "timeout",
          `${this.label} sent nothing for ${Math.round(this.#idleMs / 1000)} s`,
        ),
      );
      return;
    }
    if (this.#queuedBytes > 0 && now - this.#lastSent > this.#sendStallMs) {
      this.close(
        new PeerError(
          "timeout",
          `${this.label} took nothing we sent for ${Math.round(this.#sendStallMs / 1000)} s`,
        ),
      );
      return;
    }
    if (now - this.#lastSent > this.#keepAliveMs && !this.#flushing) {
      this.send({ type: "keep-alive" });
    }
  }

  /**
   * Closes the connection; safe to call more than once.
   *
   * @param error Why, when the close is not a normal one.
   */
  close(error?: PeerError): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeError = error;
    this.#queue = [];
    this.#queuedBytes = 0;
    closeQuietly(this.#conn);
    this.#resumeReading();
    this.#whenClosed.resolve();
  }

  #resumeReading(): void {
    this.#belowPause?.resolve();
    this.#belowPause = undefined;
  }

  /** Why the connection closed, if it was an error. */
  get closeError(): PeerError | undefined {
    return this.#closeError;
  }
}
