/// <reference lib="dom" />
/**
 * The torrent list: one card per torrent, kept (not rebuilt) across
 * updates so focus and selection survive the polling.
 *
 * @module
 */

import { el, setText } from "./dom.ts";
import { formatBytes, formatEta, formatPercent, formatRate, stateLabel } from "./format.ts";
import { Status, type Torrent } from "./types.ts";

/** What a card's buttons ask for. */
export type TorrentAction = "toggle" | "verify" | "remove";

/** What the list tells its owner. */
export interface TorrentListEvents {
  /** A torrent's name was chosen: show its details. */
  select(id: number): void;
  /** A card's button was pressed. */
  action(id: number, action: TorrentAction): void;
}

interface Card {
  item: HTMLLIElement;
  name: HTMLButtonElement;
  progress: HTMLProgressElement;
  state: HTMLSpanElement;
  size: HTMLSpanElement;
  rates: HTMLSpanElement;
  peers: HTMLSpanElement;
  eta: HTMLSpanElement;
  toggle: HTMLButtonElement;
}

/** True when the torrent is stopped (its toggle button resumes it). */
export function isPaused(torrent: Torrent): boolean {
  return torrent.status === Status.stopped;
}

/** The list of torrents in a `<ul>`. */
export class TorrentList {
  readonly #root: HTMLUListElement;
  readonly #events: TorrentListEvents;
  readonly #cards = new Map<number, Card>();

  constructor(root: HTMLUListElement, events: TorrentListEvents) {
    this.#root = root;
    this.#events = events;
    root.addEventListener("click", (event) => this.#onClick(event));
    root.addEventListener("keydown", (event) => this.#onKey(event));
  }

  /** Shows these torrents, in this order, with `selected` marked. */
  update(torrents: readonly Torrent[], selected: number | undefined): void {
    const seen = new Set<number>();
    let previous: Element | null = null;
    for (const torrent of torrents) {
      seen.add(torrent.id);
      let card = this.#cards.get(torrent.id);
      if (!card) {
        card = this.#card(torrent.id);
        this.#cards.set(torrent.id, card);
      }
      this.#fill(card, torrent, torrent.id === selected);
      const want: Element | null = previous
        ? previous.nextElementSibling
        : this.#root.firstElementChild;
      if (want !== card.item) this.#root.insertBefore(card.item, want);
      previous = card.item;
    }
    for (const [id, card] of this.#cards) {
      if (seen.has(id)) continue;
      card.item.remove();
      this.#cards.delete(id);
    }
  }

  /** Moves the keyboard focus to a torrent's name. */
  focus(id: number): void {
    this.#cards.get(id)?.name.focus();
  }

  /** The torrent whose card has the keyboard focus, if one has. */
  focused(): number | undefined {
    return this.#idOf(document.activeElement);
  }

  #card(id: number): Card {
    const name = el("button", { type: "button", class: "name", "data-action": "select" });
    const progress = el("progress", { max: 1, value: 0 });
    const state = el("span", { class: "state" });
    const size = el("span", { class: "size" });
    const rates = el("span", { class: "rates" });
    const peers = el("span", { class: "peers" });
    const eta = el("span", { class: "eta" });
    const toggle = el("button", { type: "button", "data-action": "toggle" });
    const item = el(
      "li",
      { class: "torrent", "data-id": id },
      name,
      el(
        "div",
        { class: "actions" },
        toggle,
        el("button", { type: "button", "data-action": "verify" }, "Verify"),
        el("button", { type: "button", "data-action": "remove" }, "Remove"),
      ),
      progress,
      el("div", { class: "meta" }, state, size, rates, peers, eta),
    );
    return { item, name, progress, state, size, rates, peers, eta, toggle };
  }

  #fill(card: Card, torrent: Torrent, selected: boolean): void {
    const paused = isPaused(torrent);
    const checking = torrent.status === Status.check || torrent.status === Status.checkWait;
    const fraction = checking ? torrent.recheckProgress : torrent.percentDone;
    const seeding = torrent.status === Status.seed || torrent.status === Status.seedWait;
    card.item.className = [
      "torrent",
      paused ? "paused" : "",
      seeding ? "seeding" : "",
      torrent.error !== 0 ? "error" : "",
    ].filter(Boolean).join(" ");
    if (selected) card.item.setAttribute("aria-current", "true");
    else card.item.removeAttribute("aria-current");
    setText(card.name, torrent.name || torrent.hashString);
    card.progress.value = fraction;
    card.progress.setAttribute("aria-label", `${torrent.name}: ${formatPercent(fraction)}`);
    const state = stateLabel(torrent);
    setText(
      card.state,
      torrent.error !== 0
        ? `${state}: ${torrent.errorString}`
        : `${state} ${formatPercent(fraction)}`,
    );
    const done = torrent.sizeWhenDone - torrent.leftUntilDone;
    setText(
      card.size,
      torrent.sizeWhenDone > 0
        ? `${formatBytes(done)} of ${formatBytes(torrent.sizeWhenDone)}`
        : "size not known yet",
    );
    setText(
      card.rates,
      `↓ ${formatRate(torrent.rateDownload)} ↑ ${formatRate(torrent.rateUpload)}`,
    );
    setText(
      card.peers,
      `${torrent.peersConnected} peer${torrent.peersConnected === 1 ? "" : "s"}`,
    );
    const eta = formatEta(torrent.eta);
    setText(card.eta, eta && !paused && !seeding ? `${eta} left` : "");
    setText(card.toggle, paused ? "Resume" : "Pause");
    card.toggle.setAttribute("aria-keyshortcuts", "p");
  }

  #idOf(target: EventTarget | null): number | undefined {
    const item = target instanceof Element ? target.closest("li.torrent") : null;
    const id = Number(item?.getAttribute("data-id"));
    return Number.isInteger(id) && item ? id : undefined;
  }

  #onClick(event: MouseEvent): void {
    const button = event.target instanceof Element ? event.target.closest("button") : null;
    const id = this.#idOf(button);
    if (!button || id === undefined) return;
    const action = button.getAttribute("data-action");
    if (action === "select") this.#events.select(id);
    else if (action === "toggle" || action === "verify" || action === "remove") {
      this.#events.action(id, action);
    }
  }

  #onKey(event: KeyboardEvent): void {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    const item = event.target instanceof Element ? event.target.closest("li.torrent") : null;
    if (!item) return;
    const next = event.key === "ArrowDown" ? item.nextElementSibling : item.previousElementSibling;
    const id = this.#idOf(next);
    if (id === undefined) return;
    event.preventDefault();
    this.focus(id);
  }
}
