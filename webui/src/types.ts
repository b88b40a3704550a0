/**
 * What the web interface reads from `torrent-get` and `session-get`, in
 * the names of Transmission's RPC as every version answers them
 * (kebab-case methods, camelCase torrent fields).
 *
 * @module
 */

/** Transmission's torrent states (`status`). */
export { TORRENT_STATUS as Status } from "../../lib/rpc/torrent_status.ts";
import type { RemoteTorrent } from "../../lib/ui/remote_view.ts";

/** One torrent of the list: what `shoal remote list` shows, and more. */
export interface Torrent extends RemoteTorrent {
  recheckProgress: number;
  peersConnected: number;
  peersSendingToUs: number;
  peersGettingFromUs: number;
  totalSize: number;
  queuePosition: number;
  downloadDir: string;
  addedDate: number;
}

/** The fields the list asks for. */
export const LIST_FIELDS: readonly (keyof Torrent)[] = [
  "id",
  "name",
  "hashString",
  "status",
  "error",
  "errorString",
  "percentDone",
  "metadataPercentComplete",
  "recheckProgress",
  "rateDownload",
  "rateUpload",
  "peersConnected",
  "peersSendingToUs",
  "peersGettingFromUs",
  "eta",
  "sizeWhenDone",
  "leftUntilDone",
  "totalSize",
  "uploadRatio",
  "isFinished",
  "queuePosition",
  "downloadDir",
  "addedDate",
];

/** One file of a torrent (`files`). */
export interface TorrentFile {
  name: string;
  length: number;
  bytesCompleted: number;
}

/** The choices made for one file (`fileStats`). */
export interface FileStats {
  wanted: boolean;
  priority: number;
}

/** One connected peer (`peers`). */
export interface Peer {
  address: string;
  port: number;
  clientName: string;
  progress: number;
  rateToClient: number;
  rateToPeer: number;
  flagStr: string;
}

/** One tracker (`trackerStats`). */
export interface TrackerStats {
  id: number;
  announce: string;
  host: string;
  lastAnnounceResult: string;
  lastAnnounceSucceeded: boolean;
  hasAnnounced: boolean;
  seederCount: number;
  leecherCount: number;
}

/** What the details pane shows of the selected torrent. */
export interface TorrentDetail {
  id: number;
  files: TorrentFile[];
  fileStats: FileStats[];
  peers: Peer[];
  trackerStats: TrackerStats[];
  comment: string;
  magnetLink: string;
  pieceCount: number;
  pieceSize: number;
  downloadedEver: number;
  uploadedEver: number;
}

/** The fields the details pane asks for. */
export const DETAIL_FIELDS: readonly (keyof TorrentDetail)[] = [
  "id",
  "files",
  "fileStats",
  "peers",
  "trackerStats",
  "comment",
  "magnetLink",
  "pieceCount",
  "pieceSize",
  "downloadedEver",
  "uploadedEver",
];

/** The session settings the settings dialog edits. */
export interface SessionSettings {
  "download-dir": string;
  "speed-limit-down": number;
  "speed-limit-down-enabled": boolean;
  "speed-limit-up": number;
  "speed-limit-up-enabled": boolean;
  "download-queue-size": number;
  "download-queue-enabled": boolean;
  seedRatioLimit: number;
  seedRatioLimited: boolean;
  version: string;
  "rpc-version": number;
}

/** The fields of `session-get` the interface reads. */
export const SESSION_FIELDS: readonly (keyof SessionSettings)[] = [
  "download-dir",
  "speed-limit-down",
  "speed-limit-down-enabled",
  "speed-limit-up",
  "speed-limit-up-enabled",
  "download-queue-size",
  "download-queue-enabled",
  "seedRatioLimit",
  "seedRatioLimited",
  "version",
  "rpc-version",
];
