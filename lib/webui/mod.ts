/**
 * The web interface of `shoal daemon`, served beside its RPC: the torrent
 * list, adding by file, URL or magnet, pausing, resuming, verifying and
 * removing, each torrent's files, peers and trackers, and the session's
 * settings. It speaks the daemon's Transmission RPC from the browser.
 *
 * @module
 */

export * from "./web_ui.ts";
