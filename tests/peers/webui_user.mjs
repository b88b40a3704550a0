// A person using shoal's web interface in Debian's Chromium, driven by
// playwright-core. Usage: node webui_user.mjs CONFIG_JSON
// CONFIG: { url, torrent, torrentName, unwanted, magnet, magnetName, shots, profile }
// It adds `torrent` by upload (paused), deselects the file `unwanted`,
// resumes it, waits for 100 %, pauses and resumes it, adds `magnet`,
// waits for 100 %, takes screenshots at 1920 and 360 px wide (into `shots`),
// and removes the magnet's torrent with its data, mostly from the keyboard.
// Prints one line per step; exits 1 with the reason (and a screenshot) on failure.
import { chromium } from "playwright-core";

const config = JSON.parse(process.argv[2]);
const STEP_MS = 90_000;

const context = await chromium.launchPersistentContext(config.profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
  viewport: { width: 1920, height: 1080 },
});
const page = context.pages()[0] ?? await context.newPage();
const problems = [];
page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
page.on("console", (message) => {
  // A 409 is the RPC's session-id handshake (the first request of each), not a fault.
  if (message.type() === "error" && !/status of 409/.test(message.text())) {
    problems.push(`console error: ${message.text()}`);
  }
});
// Nothing but the daemon: a request elsewhere (a CDN, a font) is a bug.
await context.route("**/*", (route) => {
  const url = new URL(route.request().url());
  if (url.origin === new URL(config.url).origin) return route.continue();
  problems.push(`request outside the daemon: ${url}`);
  return route.abort();
});

function step(text) {
  console.log(`STEP ${text}`);
}

/** The card of a torrent by its name. */
function card(name) {
  return page.locator("li.torrent", { has: page.locator("button.name", { hasText: name }) });
}

async function reachesComplete(name) {
  await card(name).locator(".state", { hasText: /(Seeding|Finished|Paused) 100\.0 %/ }).waitFor({
    timeout: STEP_MS,
  });
}

async function noHorizontalScroll(width) {
  const scroll = await page.evaluate(() => document.documentElement.scrollWidth);
  if (scroll > width) throw new Error(`at ${width} px the page is ${scroll} px wide`);
}

try {
  await page.goto(config.url);
  await page.getByText("No torrents yet").waitFor();
  step("page loaded, empty list");

  // Add by upload, paused, from the keyboard: "a" opens the dialog.
  await page.keyboard.press("a");
  await page.locator("#add-dialog[open]").waitFor();
  await page.setInputFiles("#add-files", config.torrent);
  await page.check("#add-paused");
  await page.focus("#add-submit");
  await page.keyboard.press("Enter");
  await card(config.torrentName).waitFor({ timeout: STEP_MS });
  await card(config.torrentName).locator(".state", { hasText: "Paused" }).waitFor();
  step("uploaded .torrent added, paused");

  // Its details: untick a file.
  await card(config.torrentName).locator("button.name").focus();
  await page.keyboard.press("Enter");
  await page.locator("#details:not([hidden])").waitFor();
  const box = page.getByRole("checkbox", { name: `Download ${config.unwanted}` });
  await box.waitFor();
  await box.focus();
  await page.keyboard.press("Space");
  // Wait for a poll after the change to show it still cleared (the daemon took it).
  await page.waitForTimeout(2500);
  if (await box.isChecked()) throw new Error(`${config.unwanted} is still wanted after unticking`);
  step(`file ${config.unwanted} not wanted`);

  // Resume with the card's button; wait for it to finish.
  await card(config.torrentName).getByRole("button", { name: "Resume" }).click();
  await reachesComplete(config.torrentName);
  step("upload reached 100 %");

  // Pause with the keyboard ("p" on the focused card), then resume by clicking.
  await card(config.torrentName).locator("button.name").focus();
  await page.keyboard.press("p");
  await card(config.torrentName).locator(".state", { hasText: /^Paused/ }).waitFor();
  await card(config.torrentName).getByRole("button", { name: "Resume" }).click();
  await card(config.torrentName).locator(".state", { hasText: /^Seeding/ }).waitFor({
    timeout: STEP_MS,
  });
  step("paused and resumed");

  // Add a magnet link with the mouse.
  await page.click("#open-add");
  await page.fill("#add-link", config.magnet);
  await page.uncheck("#add-paused");
  await page.click("#add-submit");
  await page.locator("#add-dialog").waitFor({ state: "hidden" });
  await card(config.magnetName).waitFor({ timeout: STEP_MS });
  await reachesComplete(config.magnetName);
  step("magnet reached 100 %");

  // Peers and trackers tabs of the magnet's torrent, by the arrow keys.
  await card(config.magnetName).locator("button.name").click();
  await page.focus("#tab-files");
  await page.keyboard.press("ArrowRight");
  await page.locator("#panel-peers:not([hidden])").waitFor();
  await page.keyboard.press("ArrowRight");
  await page.locator("#panel-trackers:not([hidden])").waitFor();
  await page.keyboard.press("ArrowLeft");
  await page.keyboard.press("ArrowLeft");
  await page.locator("#panel-files:not([hidden])").waitFor();
  step("details tabs by keyboard");

  await card(config.torrentName).locator("button.name").click();
  await page.waitForTimeout(2200);
  await noHorizontalScroll(1920);
  await page.screenshot({ path: `${config.shots}/webui-1920.png`, fullPage: true });
  await page.setViewportSize({ width: 360, height: 780 });
  await page.waitForTimeout(300);
  await noHorizontalScroll(360);
  await page.screenshot({ path: `${config.shots}/webui-360.png`, fullPage: true });
  await page.setViewportSize({ width: 1920, height: 1080 });
  step("screenshots at 1920 and 360 px");

  // Remove the magnet's torrent with its data, from the keyboard.
  await card(config.magnetName).locator("button.name").focus();
  await page.keyboard.press("Delete");
  await page.locator("#remove-dialog[open]").waitFor();
  await page.focus("#remove-data");
  await page.keyboard.press("Space");
  await page.focus("#remove-submit");
  await page.keyboard.press("Enter");
  await card(config.magnetName).waitFor({ state: "detached", timeout: STEP_MS });
  step("magnet's torrent removed with its data");

  if (problems.length > 0) throw new Error(problems.join("\n"));
  console.log("DONE");
  await context.close();
} catch (error) {
  console.log(`FAILED ${error?.stack ?? error}`);
  const said = await page.evaluate(() =>
    [...document.querySelectorAll(".form-error, #message")].map((e) => e.textContent).join(" | ")
  ).catch(() => "");
  console.log(`the page said: ${said}`);
  if (problems.length > 0) console.log(problems.join("\n"));
  await page.screenshot({ path: `${config.shots}/webui-failure.png`, fullPage: true }).catch(() => {});
  await context.close().catch(() => {});
  process.exit(1);
}
