/**
 * Serving files over HTTP while they download (`shoal stream`): the
 * {@linkcode FileServer} with `Range` requests, and the `Range` parser.
 *
 * @module
 */

export * from "./file_server.ts";
export * from "./range.ts";
