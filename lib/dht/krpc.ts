/**
 * KRPC (BEP 5): the bencoded messages DHT nodes exchange over UDP —
 * queries (`ping`, `find_node`, `get_peers`, `announce_peer`), their
 * responses, and errors — with the IPv6 additions of BEP 32 (`nodes6`,
 * `want`) and the requester's address of BEP 42 (`ip`).
 *
 * Everything read here comes from strangers: a datagram is decoded with
 * the bencode decoder's size, depth and item limits, and a message whose
 * required fields are missing or malformed is refused with a
 * {@linkcode KrpcDecodeError} that says which (so the node can answer
 * `203 Protocol Error` when it was a query). Optional fields that are
 * malformed are dropped.
 *
 * @module
 */

import { decode } from "../bencode/decode.ts";
import { encode } from "../bencode/encode.ts";
import { isBytes, isDict, isInteger, isList } from "../bencode/read.ts";
import type { BencodeDict, BencodeInput, BencodeValue } from "../bencode/types.ts";
import { ShoalError } from "../errors.ts";
import { bytesToBinary } from "../util/_bytes.ts";

/** Largest datagram read as KRPC; larger ones are dropped unread. */
export const MAX_KRPC_DATAGRAM = 8 * 1024;
/** Longest transaction id accepted (BEP 5: "typically 2 characters"). */
export const MAX_TRANSACTION_ID = 16;
/** Longest write token accepted. */
export const MAX_TOKEN = 64;
/** Most `values` entries read from one `get_peers` response. */
export const MAX_VALUES = 200;

/** Error codes of KRPC error messages (BEP 5). */
export const KrpcErrorCode = {
  Generic: 201,
  Server: 202,
  Protocol: 203,
  MethodUnknown: 204,
} as const;

/** The methods of the DHT. */
export type KrpcMethod = "ping" | "find_node" | "get_peers" | "announce_peer";

/** The arguments of a query; which are present depends on the method. */
export interface KrpcArguments {
  /** The querying node's id (20 bytes). */
  id: Uint8Array;
  /** `find_node`: the id sought. */
  target?: Uint8Array;
  /** `get_peers`, `announce_peer`: the torrent. */
  infoHash?: Uint8Array;
  /** `announce_peer`: the peer's port. */
  port?: number;
  /** `announce_peer`: use the datagram's source port instead of `port`. */
  impliedPort?: boolean;
  /** `announce_peer`: the token a `get_peers` response gave. */
  token?: Uint8Array;
  /** BEP 32: the families of nodes wanted in the response (`n4`, `n6`). */
  want?: ("n4" | "n6")[];
}

/** A query. */
export interface KrpcQuery {
  /** A query. */
  kind: "query";
  /** The transaction id, echoed in the reply. */
  transaction: Uint8Array;
  /** The method; an unknown one is kept as it was sent, to answer 204. */
  method: string;
  /** Its arguments. */
  args: KrpcArguments;
  /** BEP 43: the querier does not answer queries (it is not put in routing tables). */
  readOnly?: boolean;
  /** The client version string, as sent. */
  version?: Uint8Array;
}

/** The values of a response; which are present depends on the query. */
export interface KrpcResult {
  /** The answering node's id (20 bytes). */
  id: Uint8Array;
  /** Compact IPv4 node info, 26 bytes per node. */
  nodes?: Uint8Array;
  /** Compact IPv6 node info (BEP 32), 38 bytes per node. */
  nodes6?: Uint8Array;
  /** `get_peers`: compact peer addresses (6 or 18 bytes each). */
  values?: Uint8Array[];
  /** `get_peers`: the write token for `announce_peer`. */
  token?: Uint8Array;
}

/** A response. */
export interface KrpcResponse {
  /** A response. */
  kind: "response";
  /** The transaction id of the query it answers. */
  transaction: Uint8Array;
  /** What it returns. */
  result: KrpcResult;
  /** BEP 42: the address (compact, 6 or 18 bytes) the answering node saw us at. */
  ip?: Uint8Array;
  /** The client version string, as sent. */
  version?: Uint8Array;
}

/** An error message. */
export interface KrpcErrorReply {
  /** An error. */
  kind: "error";
  /** The transaction id of the query it answers. */
  transaction: Uint8Array;
  /** The error code ({@linkcode KrpcErrorCode}). */
  code: number;
  /** What went wrong, as the node wrote it. */
  message: string;
  /** The client version string, as sent. */
  version?: Uint8Array;
}

/** Any KRPC message. */
export type KrpcMessage = KrpcQuery | KrpcResponse | KrpcErrorReply;

/** A datagram is not a KRPC message shoal can use; `transaction` is set when it was readable. */
export class KrpcDecodeError extends ShoalError {
  /** The transaction id, when the message had one (a query's then gets a 203 error). */
  readonly transaction?: Uint8Array;
  /** True when the message was a query (it may be answered with an error). */
  readonly query: boolean;

  /**
   * Makes the error.
   *
   * @param message What is wrong.
   * @param transaction The transaction id, when readable.
   * @param query Whether the message was a query.
   */
  constructor(message: string, transaction?: Uint8Array, query = false) {
    super(message);
    this.transaction = transaction;
    this.query = query;
  }
}

const VERSION = new TextEncoder().encode("SH01");

/** Bytes of a field that must be exactly `length` long, else undefined. */
function fixed(value: BencodeValue | undefined, length: number): Uint8Array | undefined {
  return isBytes(value) && value.length === length ? value : undefined;
}

/** The text of a short byte string (method names, error messages). */
function text(bytes: Uint8Array): string {
  return bytesToBinary(bytes.subarray(0, 200));
}

/**
 * Decodes one datagram.
 *
 * @throws {KrpcDecodeError} When it is not a KRPC message or lacks what its kind requires.
 *
 * @example A ping from BEP 5
 * ```ts
 * import { decodeKrpc } from "./krpc.ts";
 *
 * const ping = new TextEncoder().encode("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe");
 * const message = decodeKrpc(ping);
 * console.log(message.kind === "query" && message.method); // ping
 * ```
 */
export function decodeKrpc(datagram: Uint8Array): KrpcMessage {
  if (datagram.length > MAX_KRPC_DATAGRAM) {
    throw new KrpcDecodeError(`a ${datagram.length}-byte datagram is too large`);
  }
  let value: BencodeValue;
  try {
    // A datagram of 8 KiB holds at most about 1,000 list items; `values` is cut to
    // MAX_VALUES after decoding.
    value = decode(datagram, { mode: "lenient", maxDepth: 4, maxItems: MAX_KRPC_DATAGRAM / 2 });
  } catch (error) {
    throw new KrpcDecodeError(`not bencode: ${(error as Error).message}`);
  }
  if (!isDict(value)) throw new KrpcDecodeError("not a dictionary");
  const t = value.get("t");
  if (!isBytes(t) || t.length > MAX_TRANSACTION_ID) {
    throw new KrpcDecodeError("no transaction id, or one too long");
  }
  const y = value.get("y");
  const kind = isBytes(y) && y.length === 1 ? String.fromCharCode(y[0]) : "";
  const v = value.get("v");
  const version = isBytes(v) && v.length <= 16 ? v : undefined;
  if (kind === "q") return decodeQuery(value, t, version);
  if (kind === "r") return decodeResponse(value, t, version);
  if (kind === "e") {
    const e = value.get("e");
    const code = isList(e) && isInteger(e[0]) ? e[0] : KrpcErrorCode.Generic;
    const message = isList(e) && isBytes(e[1]) ? text(e[1]) : "";
    return { kind: "error", transaction: t, code, message, version };
  }
  throw new KrpcDecodeError("the message type (y) is not q, r or e", t);
}

function decodeQuery(message: BencodeDict, t: Uint8Array, version?: Uint8Array): KrpcQuery {
  const refuse = (why: string) => new KrpcDecodeError(why, t, true);
  const q = message.get("q");
  const a = message.get("a");
  if (!isBytes(q) || q.length > 32) throw refuse("no method (q)");
  if (!isDict(a)) throw refuse("no arguments (a)");
  const id = fixed(a.get("id"), 20);
  if (!id) throw refuse("the node id (id) is not 20 bytes");
  const method = text(q);
  const args: KrpcArguments = { id };
  const want = a.get("want");
  if (isList(want)) {
    args.want = [];
    for (const item of want.slice(0, 4)) {
      const name = isBytes(item) ? text(item) : "";
      if ((name === "n4" || name === "n6") && !args.want.includes(name)) args.want.push(name);
    }
  }
  if (method === "find_node") {
    args.target = fixed(a.get("target"), 20);
    if (!args.target) throw refuse("the target is not 20 bytes");
  } else if (method === "get_peers" || method === "announce_peer") {
    args.infoHash = fixed(a.get("info_hash"), 20);
    if (!args.infoHash) throw refuse("the info_hash is not 20 bytes");
  }
  if (method === "announce_peer") {
    const port = a.get("port");
    const implied = a.get("implied_port");
    args.impliedPort = isInteger(implied) && implied !== 0;
    if (isInteger(port) && port >= 1 && port <= 0xffff) args.port = port;
    else if (!args.impliedPort) throw refuse("the port is not a port number");
    const token = a.get("token");
    if (!isBytes(token) || token.length > MAX_TOKEN) throw refuse("no token, or one too long");
    args.token = token;
  }
  const ro = message.get("ro");
  return {
    kind: "query",
    transaction: t,
    method,
    args,
    readOnly: isInteger(ro) && ro === 1,
    version,
  };
}

function decodeResponse(message: BencodeDict, t: Uint8Array, version?: Uint8Array): KrpcResponse {
  const r = message.get("r");
  if (!isDict(r)) throw new KrpcDecodeError("no result (r)", t);
  const id = fixed(r.get("id"), 20);
  if (!id) throw new KrpcDecodeError("the node id (id) is not 20 bytes", t);
  const result: KrpcResult = { id };
  const nodes = r.get("nodes");
  if (isBytes(nodes)) result.nodes = nodes;
  const nodes6 = r.get("nodes6");
  if (isBytes(nodes6)) result.nodes6 = nodes6;
  const token = r.get("token");
  if (isBytes(token) && token.length <= MAX_TOKEN) result.token = token;
  const values = r.get("values");
  if (isList(values)) {
    result.values = values.slice(0, MAX_VALUES).filter((item): item is Uint8Array =>
      isBytes(item) && (item.length === 6 || item.length === 18)
    );
  }
  const ip = message.get("ip");
  return {
    kind: "response",
    transaction: t,
    result,
    ip: isBytes(ip) && (ip.length === 6 || ip.length === 18) ? ip : undefined,
    version,
  };
}

/**
 * Encodes a message, with our client version (`v`).
 *
 * @example A find_node query
 * ```ts
 * import { decodeKrpc, encodeKrpc } from "./krpc.ts";
 *
 * const id = new Uint8Array(20).fill(1);
 * const bytes = encodeKrpc({
 *   kind: "query",
 *   transaction: new Uint8Array([0, 1]),
 *   method: "find_node",
 *   args: { id, target: new Uint8Array(20) },
 * });
 * const back = decodeKrpc(bytes);
 * console.log(back.kind === "query" && back.args.target?.length); // 20
 * ```
 */
export function encodeKrpc(message: KrpcMessage): Uint8Array<ArrayBuffer> {
  const common = { t: message.transaction, v: message.version ?? VERSION };
  if (message.kind === "query") {
    const { args } = message;
    const a: Record<string, BencodeInput | undefined> = {
      id: args.id,
      target: args.target,
      info_hash: args.infoHash,
      port: args.port,
      implied_port: args.impliedPort ? 1 : undefined,
      token: args.token,
      want: args.want,
    };
    return encode({
      ...common,
      y: "q",
      q: message.method,
      a,
      ro: message.readOnly ? 1 : undefined,
    });
  }
  if (message.kind === "response") {
    const { result } = message;
    const r: Record<string, BencodeInput | undefined> = {
      id: result.id,
      nodes: result.nodes,
      nodes6: result.nodes6,
      values: result.values,
      token: result.token,
    };
    return encode({ ...common, y: "r", r, ip: message.ip });
  }
  return encode({ ...common, y: "e", e: [message.code, message.message] });
}
