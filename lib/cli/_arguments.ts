/**
 * Parsers for flag values: each turns what the user typed into a value or
 * throws commander's `InvalidArgumentError` with what was expected (exit 2).
 *
 * @module
 */

import { isIP } from "node:net";
import { InvalidArgumentError } from "./_commander.ts";
import { parsePeerAddress, type PeerAddress } from "../net/peer_address.ts";
import { parseSize } from "../util/size.ts";

/** Parses `--peer host:port` (IPv6 as `[addr]:port`), adding it to the list. */
export function peerArgument(value: string, previous: PeerAddress[]): PeerAddress[] {
  const address = parsePeerAddress(value);
  if (!address) {
    throw new InvalidArgumentError("expected host:port, such as 127.0.0.1:51413 or [::1]:6881.");
  }
  return [...previous, address];
}

/** Parses `--max-peers`: 1 to 1000. */
export function maxPeersArgument(value: string): number {
  const count = Number(value);
  if (!/^\d+$/.test(value) || count < 1 || count > 1000) {
    throw new InvalidArgumentError("expected a number of peers from 1 to 1000.");
  }
  return count;
}

/** Parses `--max-web-seeds`: 0 (none) to 100. */
export function maxWebSeedsArgument(value: string): number {
  const count = Number(value);
  if (!/^\d+$/.test(value) || count > 100) {
    throw new InvalidArgumentError("expected a number of web seeds from 0 (none) to 100.");
  }
  return count;
}

/** Parses `--max-memory`: a size from 1 MiB to 16 GiB. */
export function memoryArgument(value: string): number {
  const bytes = parseSize(value);
  if (bytes === undefined || bytes < 1024 * 1024 || bytes > 16 * 1024 ** 3) {
    throw new InvalidArgumentError("expected a size from 1m to 16g, such as 64m.");
  }
  return bytes;
}

/** Parses a `--bind` address: an IPv4 or IPv6 address of this machine. */
export function bindArgument(value: string, previous: string[]): string[] {
  const address = value.replace(/^\[|\]$/g, "");
  if (isIP(address) === 0) {
    throw new InvalidArgumentError(
      "expected an IP address of this machine, such as 127.0.0.1 or ::1.",
    );
  }
  return [...previous, address];
}

/** Parses `--seed-ratio`: a number above 0. */
export function ratioArgument(value: string): number {
  const ratio = Number(value);
  if (!Number.isFinite(ratio) || ratio <= 0) {
    throw new InvalidArgumentError("expected a ratio above 0, such as 1.5.");
  }
  return ratio;
}

/** Parses a duration (`90s`, `30m`, `2h`, `1d`, or seconds) into seconds. */
export function durationArgument(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(s|m|h|d)?$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError("expected a duration such as 90s, 30m, 2h or 1d.");
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[match[2] ?? "s"]!;
  return Number(match[1]) * unit;
}

/** Parses `--stall-timeout`: a duration of at least 5 s (shoal waits 5 s before it calls a download stalled). */
export function stallTimeoutArgument(value: string): number {
  const seconds = durationArgument(value);
  if (seconds < 5) {
    throw new InvalidArgumentError("expected a duration of at least 5s, such as 10m.");
  }
  return seconds;
}

/** Parses a rate limit (`500k`, `2m`, `2m/s`): at least 1 KiB per second. */
export function rateArgument(value: string): number {
  const bytes = parseSize(value.replace(/\/s$/i, ""));
  if (bytes === undefined || bytes < 1024) {
    throw new InvalidArgumentError("expected bytes per second, at least 1k, such as 500k or 2m.");
  }
  return bytes;
}

/** Parses a TCP port for a flag. */
export function portArgument(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1 || port > 65535) {
    throw new InvalidArgumentError("expected a port from 1 to 65535.");
  }
  return port;
}

/** Parses a port that may be 0 (any free one): `--http-port`. */
export function portOrAnyArgument(value: string): number {
  if (value === "0") return 0;
  return portArgument(value);
}

/** Parses `--timeout`: seconds, above 0 and at most an hour. */
export function secondsArgument(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) {
    throw new InvalidArgumentError("expected seconds, more than 0 and at most 3600.");
  }
  return seconds;
}

/** Parses `--dht-bootstrap host:port` (IPv6 as `[addr]:port`), adding it to the list as text. */
export function nodeArgument(value: string, previous: string[]): string[] {
  if (!parsePeerAddress(value)) {
    throw new InvalidArgumentError(
      "expected host:port, such as dht.libtorrent.org:25401 or [::1]:6881.",
    );
  }
  return [...previous, value];
}
