/**
 * The names of Transmission's RPC in each of its styles. Since 4.1 (RPC
 * version 18) every method and key is snake_case (`hash_string`,
 * `download_dir`, `torrent_get`), sent in a JSON-RPC 2.0 envelope. Before
 * that (Debian's Transmission 3.00, RPC version 16, and most remotes), keys
 * were a mix: camelCase for most torrent fields (`hashString`,
 * `percentDone`), kebab-case for session settings and some arguments
 * (`download-dir`, `files-wanted`, `peer-limit`), and `download_dir` was
 * `downloadDir` in `torrent-get`/`torrent-set` but `download-dir`
 * elsewhere. This module turns any of them into snake_case, and snake_case
 * back into the old names (the table of `libtransmission/api-compat.cc`).
 *
 * @module
 */

/** Which names a request uses, and its answer gets. */
export type RpcStyle = "legacy" | "snake";

/** The snake_case name of a method or key given in kebab-case, camelCase or snake_case. */
export function snakeCase(name: string): string {
  return name.replace(/-/g, "_").replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
}

/** Keys whose old name is kebab-case (the others of {@linkcode CAMEL} are camelCase). */
const KEBAB = new Set(
  [
    "alt_speed_down alt_speed_enabled alt_speed_time_begin alt_speed_time_day",
    "alt_speed_time_enabled alt_speed_time_end alt_speed_up anti_brute_force_enabled",
    "anti_brute_force_threshold blocklist_enabled blocklist_size blocklist_url cache_size_mb",
    "config_dir cumulative_stats current_stats default_trackers delete_local_data dht_enabled",
    "download_dir download_dir_free_space download_queue_enabled download_queue_size file_count",
    "files_unwanted files_wanted idle_seeding_limit idle_seeding_limit_enabled incomplete_dir",
    "incomplete_dir_enabled lpd_enabled memory_bytes memory_units peer_limit peer_limit_global",
    "peer_limit_per_torrent peer_port peer_port_random_on_start pex_enabled",
    "port_forwarding_enabled port_is_open primary_mime_type priority_high priority_low",
    "priority_normal queue_stalled_enabled queue_stalled_minutes recently_active",
    "rename_partial_files rpc_host_whitelist rpc_host_whitelist_enabled rpc_version",
    "rpc_version_minimum rpc_version_semver script_torrent_added_enabled",
    "script_torrent_added_filename script_torrent_done_enabled script_torrent_done_filename",
    "script_torrent_done_seeding_enabled script_torrent_done_seeding_filename seed_queue_enabled",
    "seed_queue_size session_id size_bytes size_units speed_bytes speed_limit_down",
    "speed_limit_down_enabled speed_limit_up speed_limit_up_enabled speed_units",
    "start_added_torrents tcp_enabled torrent_added torrent_duplicate",
    "trash_original_torrent_files utp_enabled",
  ].join(" ").split(" "),
);

/** Keys whose old name is camelCase. */
const CAMEL = new Set(
  [
    "active_torrent_count activity_date added_date announce_state bandwidth_priority",
    "bytes_completed client_is_choked client_is_interested client_name corrupt_ever",
    "date_created desired_available done_date download_count download_limit download_limited",
    "download_speed downloaded_bytes downloaded_ever edit_date error_string eta_idle file_stats",
    "files_added flag_str from_cache from_dht from_incoming from_lpd from_ltep from_pex",
    "from_tracker has_announced has_scraped hash_string have_unchecked have_valid",
    "honors_session_limits is_backup is_downloading_from is_encrypted is_finished is_incoming",
    "is_private is_stalled is_uploading_to is_utp last_announce_peer_count",
    "last_announce_result last_announce_start_time last_announce_succeeded last_announce_time",
    "last_announce_timed_out last_scrape_result last_scrape_start_time last_scrape_succeeded",
    "last_scrape_time last_scrape_timed_out leecher_count left_until_done magnet_link",
    "manual_announce_time max_connected_peers metadata_percent_complete next_announce_time",
    "next_scrape_time paused_torrent_count peer_is_choked peer_is_interested peers_connected",
    "peers_from peers_getting_from_us peers_sending_to_us percent_complete percent_done",
    "piece_count piece_size queue_position rate_download rate_to_client rate_to_peer",
    "rate_upload recheck_progress scrape_state seconds_active seconds_downloading",
    "seconds_seeding seed_idle_limit seed_idle_mode seed_ratio_limit seed_ratio_limited",
    "seed_ratio_mode seeder_count session_count size_when_done start_date torrent_count",
    "torrent_file total_size tracker_add tracker_list tracker_remove tracker_replace",
    "tracker_stats upload_limit upload_limited upload_ratio upload_speed uploaded_bytes",
    "uploaded_ever webseeds_sending_to_us",
  ].join(" ").split(" "),
);

/**
 * The old name of a snake_case key. `torrent` says the key is in a
 * `torrent-get`/`torrent-set` (where `download_dir` is `downloadDir`); a
 * `free-space` answer's `total_size` kept its name.
 */
export function legacyName(
  key: string,
  where: { torrent?: boolean; freeSpace?: boolean } = {},
): string {
  if (key === "download_dir" && where.torrent) return "downloadDir";
  if (key === "total_size" && where.freeSpace) return key;
  if (KEBAB.has(key)) return key.replace(/_/g, "-");
  if (CAMEL.has(key)) return key.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
  return key;
}

/**
 * The keys of an answer (made with snake_case keys) in the request's style:
 * unchanged for `snake`, the old names for `legacy`, through nested objects
 * and arrays (and the header row of a `torrent-get` in `table` format).
 */
export function inStyle(
  value: unknown,
  style: RpcStyle,
  where: { torrent?: boolean; freeSpace?: boolean } = {},
): unknown {
  if (style === "snake") return value;
  return renamed(value, where, false);
}

function renamed(
  value: unknown,
  where: { torrent?: boolean; freeSpace?: boolean },
  names: boolean,
): unknown {
  if (Array.isArray(value)) {
    // A table's first row is its keys.
    return value.map((item, i) =>
      names && i === 0 && Array.isArray(item)
        ? item.map((key) => typeof key === "string" ? legacyName(key, where) : key)
        : renamed(item, where, false)
    );
  }
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[legacyName(key, where)] = renamed(item, where, key === "torrents");
  }
  return out;
}

/** A request's arguments with snake_case keys (the top level: no method takes nested ones). */
export function snakeKeys(args: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(args)) out[snakeCase(key)] = value;
  return out;
}
