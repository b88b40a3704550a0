/// <reference lib="dom" />
/**
 * The details of one torrent: facts, and tabs for its files (wanted or
 * not, priority), its peers and its trackers.
 *
 * @module
 */

import { byId, el, setText } from "./dom.ts";
import { formatBytes, formatPercent, formatRate } from "./format.ts";
import type { Torrent, TorrentDetail } from "./types.ts";

/** Transmission's file priorities. */
export type Priority = "high" | "normal" | "low";

/** What the details pane asks for. */
export interface DetailsEvents {
  /** A file's box was ticked or cleared. */
  setWanted(id: number, file: number, wanted: boolean): void;
  /** A file's priority was chosen. */
  setPriority(id: number, file: number, priority: Priority): void;
  /** The pane was closed. */
  close(): void;
}

const PRIORITY_NAMES: Record<number, Priority> = { 1: "high", 0: "normal", [-1]: "low" };

interface FileRow {
  row: HTMLTableRowElement;
  wanted: HTMLInputElement;
  done: HTMLTableCellElement;
  priority: HTMLSelectElement;
}

/** The details pane (`#details` in index.html). */
export class DetailsView {
  readonly #root = byId("details");
  readonly #name = byId("details-name");
  readonly #facts = byId<HTMLDListElement>("details-facts");
  readonly #files = byId<HTMLTableSectionElement>("files");
  readonly #peers = byId<HTMLTableSectionElement>("peers");
  readonly #trackers = byId<HTMLTableSectionElement>("trackers");
  readonly #tabs = ["files", "peers", "trackers"].map((name) =>
    byId<HTMLButtonElement>(`tab-${name}`)
  );
  readonly #events: DetailsEvents;
  #fileRows: FileRow[] = [];
  #id: number | undefined;

  constructor(events: DetailsEvents) {
    this.#events = events;
    byId("close-details").addEventListener("click", () => events.close());
    for (const tab of this.#tabs) {
      tab.addEventListener("click", () => this.#choose(tab));
      tab.addEventListener("keydown", (event) => this.#onTabKey(event));
    }
    this.#files.addEventListener("change", (event) => this.#onFileChange(event));
  }

  /** The torrent shown, if any. */
  get id(): number | undefined {
    return this.#id;
  }

  /** Shows a torrent's details; `undefined` hides the pane. */
  update(torrent: Torrent | undefined, detail: TorrentDetail | undefined): void {
    if (!torrent) {
      this.#root.hidden = true;
      this.#id = undefined;
      return;
    }
    if (this.#id !== torrent.id) {
      this.#fileRows = [];
      this.#files.replaceChildren();
      this.#peers.replaceChildren();
      this.#trackers.replaceChildren();
      this.#id = torrent.id;
    }
    this.#root.hidden = false;
    setText(this.#name, torrent.name || torrent.hashString);
    this.#showFacts(torrent, detail);
    if (!detail || detail.id !== torrent.id) return;
    this.#showFiles(detail);
    this.#peers.replaceChildren(
      ...detail.peers.map((peer) =>
        el(
          "tr",
          {},
          el("td", {}, `${peer.address}:${peer.port}`),
          el("td", {}, peer.clientName),
          el("td", { class: "num" }, formatPercent(peer.progress)),
          el("td", { class: "num" }, formatRate(peer.rateToClient)),
          el("td", { class: "num" }, formatRate(peer.rateToPeer)),
          el("td", {}, peer.flagStr),
        )
      ),
    );
    if (detail.peers.length === 0) {
      this.#peers.replaceChildren(el("tr", {}, el("td", { colspan: 6 }, "No peers connected")));
    }
    this.#trackers.replaceChildren(
      ...detail.trackerStats.map((tracker) =>
        el(
          "tr",
          {},
          el("td", {}, tracker.announce),
          el("td", {}, tracker.hasAnnounced ? tracker.lastAnnounceResult : "not yet"),
          el("td", { class: "num" }, tracker.seederCount >= 0 ? String(tracker.seederCount) : "?"),
          el(
            "td",
            { class: "num" },
            tracker.leecherCount >= 0 ? String(tracker.leecherCount) : "?",
          ),
        )
      ),
    );
    if (detail.trackerStats.length === 0) {
      this.#trackers.replaceChildren(el("tr", {}, el("td", { colspan: 4 }, "No trackers")));
    }
  }

  #showFacts(torrent: Torrent, detail: TorrentDetail | undefined): void {
    const facts: [string, string][] = [
      ["Hash", torrent.hashString],
      ["Saved in", torrent.downloadDir],
      ["Size", torrent.totalSize > 0 ? formatBytes(torrent.totalSize) : "not known yet"],
      ["Ratio", torrent.uploadRatio >= 0 ? torrent.uploadRatio.toFixed(2) : "–"],
    ];
    if (detail) {
      facts.push(
        ["Downloaded", formatBytes(detail.downloadedEver)],
        ["Uploaded", formatBytes(detail.uploadedEver)],
        ["Pieces", `${detail.pieceCount} × ${formatBytes(detail.pieceSize)}`],
      );
      if (detail.comment) facts.push(["Comment", detail.comment]);
    }
    const rows = facts.flatMap(([term, value]) => [el("dt", {}, term), el("dd", {}, value)]);
    const same = this.#facts.children.length === rows.length &&
      rows.every((row, i) => this.#facts.children[i].textContent === row.textContent);
    if (!same) this.#facts.replaceChildren(...rows);
  }

  #showFiles(detail: TorrentDetail): void {
    if (this.#fileRows.length !== detail.files.length) {
      this.#fileRows = detail.files.map((file, index) => this.#fileRow(file.name, index));
      this.#files.replaceChildren(...this.#fileRows.map((r) => r.row));
      if (detail.files.length === 0) {
        this.#files.replaceChildren(
          el("tr", {}, el("td", { colspan: 4 }, "The file list comes with the metadata")),
        );
      }
    }
    detail.files.forEach((file, index) => {
      const row = this.#fileRows[index];
      const stats = detail.fileStats[index];
      if (!row || !stats) return;
      if (row.wanted.checked !== stats.wanted) row.wanted.checked = stats.wanted;
      const priority = PRIORITY_NAMES[stats.priority] ?? "normal";
      if (row.priority !== document.activeElement) row.priority.value = priority;
      setText(
        row.done,
        file.length > 0
          ? `${formatPercent(file.bytesCompleted / file.length)} of ${formatBytes(file.length)}`
          : "empty",
      );
    });
  }

  #fileRow(name: string, index: number): FileRow {
    const label = `Download ${name}`;
    const wanted = el("input", { type: "checkbox", "data-file": index, "aria-label": label });
    const priority = el(
      "select",
      { "data-file": index, "aria-label": `Priority of ${name}` },
      el("option", { value: "high" }, "High"),
      el("option", { value: "normal" }, "Normal"),
      el("option", { value: "low" }, "Low"),
    );
    const done = el("td", { class: "num" });
    const row = el(
      "tr",
      {},
      el("td", {}, wanted),
      el("td", {}, name),
      done,
      el("td", {}, priority),
    );
    return { row, wanted, done, priority };
  }

  #onFileChange(event: Event): void {
    const target = event.target;
    const id = this.#id;
    if (id === undefined || !(target instanceof HTMLElement)) return;
    const file = Number(target.getAttribute("data-file"));
    if (!Number.isInteger(file)) return;
    if (target instanceof HTMLInputElement) this.#events.setWanted(id, file, target.checked);
    if (target instanceof HTMLSelectElement) {
      this.#events.setPriority(id, file, target.value as Priority);
    }
  }

  #choose(chosen: HTMLButtonElement): void {
    for (const tab of this.#tabs) {
      const selected = tab === chosen;
      tab.setAttribute("aria-selected", String(selected));
      tab.tabIndex = selected ? 0 : -1;
      byId(tab.getAttribute("aria-controls") ?? "").hidden = !selected;
    }
  }

  #onTabKey(event: KeyboardEvent): void {
    const index = this.#tabs.indexOf(event.currentTarget as HTMLButtonElement);
    const step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
    if (step === 0 || index < 0) return;
    event.preventDefault();
    const next = this.#tabs[(index + step + this.#tabs.length) % this.#tabs.length];
    this.#choose(next);
    next.focus();
  }
}
