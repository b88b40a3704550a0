/// <reference lib="dom" />
/**
 * The dialogs: adding torrents (files, a magnet link or a URL), removing
 * one (with or without its data), and the session settings.
 *
 * @module
 */

import type { RpcClient } from "../../lib/rpc/client.ts";
import { bytesToBinary } from "../../lib/util/_bytes.ts";
import { byId } from "./dom.ts";
import { SESSION_FIELDS, type SessionSettings } from "./types.ts";

/** A `.torrent` file's bytes as base64, for `torrent-add`'s `metainfo`. */
export async function fileToBase64(file: Blob): Promise<string> {
  return btoa(bytesToBinary(new Uint8Array(await file.arrayBuffer())));
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Wires a dialog's Cancel button and its submit to `run`; the dialog closes when `run` succeeds. */
function wire(
  dialog: HTMLDialogElement,
  form: HTMLFormElement,
  errorLine: HTMLElement,
  run: () => Promise<void>,
): void {
  form.querySelector("button.cancel")?.addEventListener("click", () => dialog.close());
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const submit = form.querySelector<HTMLButtonElement>("button[type=submit]");
    if (submit) submit.disabled = true;
    errorLine.textContent = "";
    run().then(
      () => dialog.close(),
      (error) => {
        errorLine.textContent = message(error);
      },
    ).finally(() => {
      if (submit) submit.disabled = false;
    });
  });
}

/** The Add dialog. */
export class AddDialog {
  readonly #dialog = byId<HTMLDialogElement>("add-dialog");
  readonly #files = byId<HTMLInputElement>("add-files");
  readonly #link = byId<HTMLInputElement>("add-link");
  readonly #dir = byId<HTMLInputElement>("add-dir");
  readonly #paused = byId<HTMLInputElement>("add-paused");

  constructor(client: RpcClient, added: (names: string[]) => void) {
    wire(this.#dialog, byId("add-form"), byId("add-error"), async () => {
      const requests: Record<string, unknown>[] = [];
      for (const file of this.#files.files ?? []) {
        requests.push({ metainfo: await fileToBase64(file) });
      }
      const link = this.#link.value.trim();
      if (link) requests.push({ filename: link });
      if (requests.length === 0) {
        throw new Error("Choose a .torrent file or give a magnet link or URL");
      }
      const names: string[] = [];
      for (const request of requests) {
        if (this.#dir.value.trim()) request["download-dir"] = this.#dir.value.trim();
        request.paused = this.#paused.checked;
        const answer = await client.call("torrent-add", request);
        const torrent = (answer["torrent-added"] ?? answer["torrent-duplicate"]) as
          | { name?: string }
          | undefined;
        names.push(
          answer["torrent-duplicate"]
            ? `${torrent?.name ?? "it"} (already there)`
            : torrent?.name ?? "",
        );
      }
      this.#files.value = "";
      this.#link.value = "";
      added(names);
    });
  }

  /** Opens it, with the session's download folder proposed. */
  open(downloadDir: string | undefined): void {
    if (!this.#dir.value && downloadDir) this.#dir.value = downloadDir;
    byId("add-error").textContent = "";
    this.#dialog.showModal();
  }
}

/** The Remove dialog. */
export class RemoveDialog {
  readonly #dialog = byId<HTMLDialogElement>("remove-dialog");
  readonly #data = byId<HTMLInputElement>("remove-data");
  #id: number | undefined;

  constructor(client: RpcClient, removed: (id: number) => void) {
    wire(this.#dialog, byId("remove-form"), byId("remove-error"), async () => {
      const id = this.#id;
      if (id === undefined) return;
      await client.call("torrent-remove", { ids: [id], "delete-local-data": this.#data.checked });
      removed(id);
    });
  }

  /** Asks whether to remove this torrent. */
  open(id: number, name: string): void {
    this.#id = id;
    this.#data.checked = false;
    byId("remove-error").textContent = "";
    byId("remove-name").textContent = name;
    this.#dialog.showModal();
  }
}

/** The Settings dialog: reads the session when opened, writes what it shows when saved. */
export class SettingsDialog {
  readonly #dialog = byId<HTMLDialogElement>("settings-dialog");
  readonly #client: RpcClient;
  #settings: SessionSettings | undefined;

  constructor(client: RpcClient, saved: () => void) {
    this.#client = client;
    wire(this.#dialog, byId("settings-form"), byId("settings-error"), async () => {
      const number = (id: string) => {
        const value = byId<HTMLInputElement>(id).valueAsNumber;
        if (!Number.isFinite(value) || value < 0) {
          throw new Error(`${byId(id).getAttribute("aria-label")}: give a number of 0 or more`);
        }
        return value;
      };
      const checked = (id: string) => byId<HTMLInputElement>(id).checked;
      await client.call("session-set", {
        "download-dir": byId<HTMLInputElement>("set-download-dir").value.trim(),
        "speed-limit-down-enabled": checked("set-down-enabled"),
        "speed-limit-down": Math.round(number("set-down")),
        "speed-limit-up-enabled": checked("set-up-enabled"),
        "speed-limit-up": Math.round(number("set-up")),
        "download-queue-enabled": checked("set-queue-enabled"),
        "download-queue-size": Math.round(number("set-queue")),
        seedRatioLimited: checked("set-ratio-enabled"),
        seedRatioLimit: number("set-ratio"),
      });
      saved();
    });
  }

  /** The session settings as last read. */
  get settings(): SessionSettings | undefined {
    return this.#settings;
  }

  /** Reads the session's settings (the download folder the Add dialog proposes, among them). */
  async load(): Promise<SessionSettings> {
    const answer = await this.#client.call("session-get", { fields: SESSION_FIELDS });
    return this.#settings = answer as unknown as SessionSettings;
  }

  /** Reads the settings and opens the dialog. */
  async open(): Promise<void> {
    const s = await this.load();
    byId<HTMLInputElement>("set-download-dir").value = s["download-dir"];
    byId<HTMLInputElement>("set-down-enabled").checked = s["speed-limit-down-enabled"];
    byId<HTMLInputElement>("set-down").value = String(s["speed-limit-down"]);
    byId<HTMLInputElement>("set-up-enabled").checked = s["speed-limit-up-enabled"];
    byId<HTMLInputElement>("set-up").value = String(s["speed-limit-up"]);
    byId<HTMLInputElement>("set-queue-enabled").checked = s["download-queue-enabled"];
    byId<HTMLInputElement>("set-queue").value = String(s["download-queue-size"]);
    byId<HTMLInputElement>("set-ratio-enabled").checked = s.seedRatioLimited;
    byId<HTMLInputElement>("set-ratio").value = String(s.seedRatioLimit);
    byId("settings-about").textContent = `${s.version} · RPC version ${s["rpc-version"]}`;
    byId("settings-error").textContent = "";
    this.#dialog.showModal();
  }
}
