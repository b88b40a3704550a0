/// <reference lib="dom" />
/**
 * The web interface of `shoal daemon`: polls the daemon's Transmission RPC
 * (the same one `transmission-remote` uses, at `transmission/rpc` beside
 * this page) every two seconds and drives it.
 *
 * @module
 */

import { RpcClient } from "../../lib/rpc/client.ts";
import { formatRate, matchesFilter } from "./format.ts";
import { byId, setText, typingInField } from "./dom.ts";
import { isPaused, type TorrentAction, TorrentList } from "./torrent_list.ts";
import { DetailsView, type Priority } from "./details.ts";
import { AddDialog, RemoveDialog, SettingsDialog } from "./dialogs.ts";
import { DETAIL_FIELDS, LIST_FIELDS, type Torrent, type TorrentDetail } from "./types.ts";

const POLL_MS = 2000;

const client = new RpcClient({ url: new URL("transmission/rpc", location.href) });
let torrents: Torrent[] = [];
let detail: TorrentDetail | undefined;
let selected: number | undefined;
/** Bumped by every change: an answer to a poll sent before it is stale and dropped. */
let generation = 0;
let timer: ReturnType<typeof setTimeout> | undefined;

const messageLine = byId("message");
/** Shows a line of news; `from` marks who may clear it. */
function say(text: string, bad = false, from = ""): void {
  messageLine.textContent = text;
  messageLine.classList.toggle("bad", bad);
  messageLine.dataset.from = from;
}
function failed(error: unknown, from = ""): void {
  say(error instanceof Error ? error.message : String(error), true, from);
}

const list = new TorrentList(byId<HTMLUListElement>("torrents"), {
  select: (id) => {
    select(id);
    // On a narrow screen the details come below the list: bring them into view.
    byId("details").scrollIntoView({ block: "nearest" });
  },
  action: (id, action) => act(id, action),
});
const details = new DetailsView({
  setWanted: (id, file, wanted) =>
    change("torrent-set", { ids: [id], [wanted ? "files-wanted" : "files-unwanted"]: [file] }),
  setPriority: (id, file, priority: Priority) =>
    change("torrent-set", { ids: [id], [`priority-${priority}`]: [file] }),
  close: () => {
    const id = selected;
    select(undefined);
    if (id !== undefined) list.focus(id);
  },
});
const settings = new SettingsDialog(client, () => {
  say("Settings saved");
  refresh();
});
const adder = new AddDialog(client, (names) => {
  say(`Added ${names.filter(Boolean).join(", ") || "the torrent"}`);
  refresh();
});
const remover = new RemoveDialog(client, (id) => {
  if (selected === id) select(undefined);
  say("Removed");
  refresh();
});

function torrentById(id: number | undefined): Torrent | undefined {
  return torrents.find((torrent) => torrent.id === id);
}

function select(id: number | undefined): void {
  selected = id;
  detail = undefined;
  render();
  refresh();
}

/** Sends a change, then polls at once. */
function change(method: string, args: Record<string, unknown>): void {
  generation++;
  client.call(method, args).then(() => refresh(), failed);
}

function act(id: number, action: TorrentAction): void {
  const torrent = torrentById(id);
  if (!torrent) return;
  if (action === "remove") remover.open(id, torrent.name);
  else if (action === "verify") change("torrent-verify", { ids: [id] });
  else change(isPaused(torrent) ? "torrent-start" : "torrent-stop", { ids: [id] });
}

function render(): void {
  const filter = byId<HTMLSelectElement>("filter").value;
  const search = byId<HTMLInputElement>("search").value.trim().toLowerCase();
  const shown = torrents
    .filter((torrent) => matchesFilter(torrent, filter))
    .filter((torrent) => !search || torrent.name.toLowerCase().includes(search))
    .sort((a, b) => a.queuePosition - b.queuePosition || a.id - b.id);
  list.update(shown, selected);
  byId("empty").hidden = torrents.length > 0;
  setText(
    byId("count"),
    shown.length === torrents.length
      ? `${torrents.length} torrent${torrents.length === 1 ? "" : "s"}`
      : `${shown.length} of ${torrents.length} shown`,
  );
  details.update(torrentById(selected), detail);
}

async function poll(): Promise<void> {
  const asked = generation;
  const [listed, stats] = await Promise.all([
    client.call("torrent-get", { fields: LIST_FIELDS }),
    client.call("session-stats"),
  ]);
  const shownId = selected;
  const detailed = shownId === undefined
    ? undefined
    : await client.call("torrent-get", { ids: [shownId], fields: DETAIL_FIELDS });
  if (asked !== generation) return;
  torrents = (listed.torrents ?? []) as Torrent[];
  detail = (detailed?.torrents as TorrentDetail[] | undefined)?.[0];
  if (selected !== undefined && !torrentById(selected)) selected = undefined;
  setText(byId("total-down"), formatRate(Number(stats.downloadSpeed ?? 0)));
  setText(byId("total-up"), formatRate(Number(stats.uploadSpeed ?? 0)));
  render();
  if (messageLine.dataset.from === "poll") say("");
}

/** Polls now, then every {@linkcode POLL_MS}. */
function refresh(): void {
  clearTimeout(timer);
  poll().catch((error) => failed(error, "poll")).finally(() => {
    clearTimeout(timer);
    timer = setTimeout(refresh, POLL_MS);
  });
}

function target(): number | undefined {
  return list.focused() ?? selected;
}

document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
  if (document.querySelector("dialog[open]") || typingInField(event)) return;
  const id = target();
  switch (event.key) {
    case "a":
      event.preventDefault();
      adder.open(settings.settings?.["download-dir"]);
      break;
    case "s":
      event.preventDefault();
      settings.open().catch(failed);
      break;
    case "p":
      if (id !== undefined) act(id, "toggle");
      break;
    case "v":
      if (id !== undefined) act(id, "verify");
      break;
    case "Delete":
      if (id !== undefined) act(id, "remove");
      break;
    case "Escape":
      if (selected !== undefined) select(undefined);
      break;
    case "ArrowDown":
      if (!list.focused() && torrents.length > 0) {
        event.preventDefault();
        const first = byId("torrents").querySelector<HTMLButtonElement>("button.name");
        first?.focus();
      }
      break;
  }
});

byId("open-add").addEventListener("click", () => adder.open(settings.settings?.["download-dir"]));
byId("open-settings").addEventListener("click", () => settings.open().catch(failed));
byId("filter").addEventListener("change", render);
byId("search").addEventListener("input", render);
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") refresh();
});

settings.load().catch(() => {});
refresh();
