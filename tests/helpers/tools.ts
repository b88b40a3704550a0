/**
 * Finding and running the real programs that interop tests talk to.
 *
 * A test that needs a missing program is skipped with the reason in its
 * name, unless `SHOAL_REQUIRE_PEERS=1` (set by `.ci/run`), under which it
 * runs and fails with an install hint instead.
 *
 * @module
 */

import { OutputWatcher, stopChild } from "./processes.ts";

/** Debian package that provides each program, for the hint. */
const PACKAGES: Record<string, string> = {
  mktorrent: "mktorrent",
  "transmission-create": "transmission-cli",
  "transmission-show": "transmission-cli",
  aria2c: "aria2",
  openssl: "openssl",
  script: "bsdutils",
  opentracker: "opentracker",
  "transmission-cli": "transmission-cli",
  "transmission-remote": "transmission-cli",
  tmux: "tmux",
  unshare: "util-linux",
  ip: "iproute2",
  curl: "curl",
  ffmpeg: "ffmpeg",
  ffprobe: "ffmpeg",
  nginx: "nginx",
  chromium: "chromium",
  "transmission-daemon": "transmission-daemon",
};

/** Programs installed from npm into tests/peers by `npm ci --ignore-scripts --prefix tests/peers`. */
const NPM_PROGRAMS: Record<string, string> = {
  "bittorrent-tracker": "bittorrent-tracker",
};

/** Where the npm-installed test programs live. */
export const NPM_BIN_DIR = new URL("../peers/node_modules/.bin", import.meta.url).pathname;

/** Test peers that are not a program of their own: how to tell they are installed. */
const LIBRARIES: Record<string, { present: () => boolean; hint: string }> = {
  "python3-libtorrent": {
    // Debian's module, for Debian's /usr/bin/python3.
    present: () => {
      try {
        return [...Deno.readDirSync("/usr/lib/python3/dist-packages")]
          .some((entry) => /^libtorrent\..*\.so$/.test(entry.name));
      } catch {
        return false;
      }
    },
    hint: "apt-get install python3-libtorrent",
  },
  // A network namespace with only loopback, for tests that multicast (LSD) or, later, the DHT.
  "network-namespace": {
    present: () => {
      if (!hasProgram("unshare") || !hasProgram("ip")) return false;
      try {
        return new Deno.Command("unshare", { args: ["-n", "true"], stderr: "null" }).outputSync()
          .success;
      } catch {
        return false;
      }
    },
    hint:
      "run as root, with unshare (apt-get install util-linux) and ip (apt-get install iproute2)",
  },
  webtorrent: {
    present: () => {
      try {
        return Deno.statSync(
          new URL("../peers/node_modules/webtorrent/package.json", import.meta.url),
        ).isFile &&
          hasProgram("node");
      } catch {
        return false;
      }
    },
    hint: "npm ci --ignore-scripts --prefix tests/peers (for webtorrent)",
  },
  "playwright-core": {
    present: () => {
      try {
        return Deno.statSync(
          new URL("../peers/node_modules/playwright-core/package.json", import.meta.url),
        ).isFile && hasProgram("node");
      } catch {
        return false;
      }
    },
    hint: "npm ci --ignore-scripts --prefix tests/peers (for playwright-core)",
  },
};

/** True when the program is on PATH (or, for npm test programs, installed in tests/peers). */
export function hasProgram(name: string): boolean {
  if (name in LIBRARIES) return LIBRARIES[name].present();
  if (name.startsWith("/")) {
    try {
      return Deno.statSync(name).isFile;
    } catch {
      return false;
    }
  }
  if (name in NPM_PROGRAMS) {
    try {
      return Deno.statSync(`${NPM_BIN_DIR}/${NPM_PROGRAMS[name]}`).isFile;
    } catch {
      return false;
    }
  }
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir) continue;
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return true;
    } catch {
      // not in this folder
    }
  }
  return false;
}

/** True when missing programs must fail the run instead of skipping tests. */
export function peersRequired(): boolean {
  return Deno.env.get("SHOAL_REQUIRE_PEERS") === "1";
}

/**
 * Declares a test that needs real programs: skipped with a visible reason when
 * one is missing, failed instead when SHOAL_REQUIRE_PEERS=1.
 */
export function testWithPrograms(
  name: string,
  programs: string[],
  fn: () => Promise<void>,
): void {
  const missing = programs.filter((program) => !hasProgram(program));
  if (missing.length === 0) {
    Deno.test(name, fn);
  } else if (peersRequired()) {
    Deno.test(name, () => {
      const hints = missing.map((m) =>
        m in LIBRARIES
          ? LIBRARIES[m].hint
          : m in NPM_PROGRAMS
          ? `npm ci --ignore-scripts --prefix tests/peers (for ${m})`
          : `apt-get install ${PACKAGES[m] ?? m}`
      );
      throw new Error(
        `SHOAL_REQUIRE_PEERS=1 but ${missing.join(", ")} is missing: ${hints.join("; ")}`,
      );
    });
  } else {
    Deno.test({ name: `${name} (skipped: ${missing.join(", ")} not installed)`, ignore: true, fn });
  }
}

/** Whether this machine has IPv6 loopback (`::1`), probed once. */
export const HAS_IPV6_LOOPBACK: boolean = (() => {
  try {
    Deno.listen({ hostname: "::1", port: 0 }).close();
    return true;
  } catch {
    return false;
  }
})();

/**
 * Declares a test that needs `::1` (and `programs`): skipped with a visible
 * reason on a machine without IPv6, which is a property of the machine, not a
 * missing peer program.
 */
export function testWithIPv6(name: string, programs: string[], fn: () => Promise<void>): void {
  if (HAS_IPV6_LOOPBACK) {
    testWithPrograms(name, programs, fn);
  } else {
    Deno.test({ name: `${name} (skipped: this machine has no IPv6 loopback)`, ignore: true, fn });
  }
}

/** The result of {@linkcode run}. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to completion and collects its output. */
export async function run(
  program: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<RunResult> {
  const output = await new Deno.Command(program, {
    args,
    cwd: options.cwd,
    env: options.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** The checkout's cli.ts. */
export const SHOAL_CLI = new URL("../../cli.ts", import.meta.url).pathname;

/** The permissions `deno task shoal` grants the CLI (as the README documents). */
export const SHOAL_PERMISSIONS = [
  "--allow-read",
  "--allow-write",
  "--allow-net",
  "--allow-env=XDG_STATE_HOME,HOME,SHOAL_RPC_PASSWORD",
];

/** Commands other than a download (`shoal <torrent>` is one) that have no discovery flags. */
const NOT_DISCOVERING = new Set(["create", "verify", "tracker", "demo", "help", "dht", "remote"]);

/**
 * The CLI's `args` with local service discovery and the DHT off: tests
 * never multicast nor reach the DHT's bootstrap nodes (network safety; the
 * LSD and DHT tests turn them on inside a network namespace with only
 * loopback). The DHT stays on when the arguments name bootstrap nodes
 * (`--dht-bootstrap`: a DHT test). Commands that do not look for peers are
 * left as they are, as is a command line that asks for help.
 */
export function withoutDiscovery(args: readonly string[]): string[] {
  const [command] = args;
  const discovers = command !== undefined && !command.startsWith("-") &&
    !NOT_DISCOVERING.has(command) && (command !== "info" || args.includes("--fetch"));
  if (!discovers || args.includes("--help")) return [...args];
  const off = [
    ...(args.includes("--no-lsd") ? [] : ["--no-lsd"]),
    ...(args.includes("--no-dht") || args.includes("--dht-bootstrap") ? [] : ["--no-dht"]),
  ];
  // Right after the command: before any `--` that ends the options.
  return [command, ...off, ...args.slice(1)];
}

/** Arguments for `deno` that run the shoal CLI with `args` (local service discovery off). */
export function shoalArgs(args: string[]): string[] {
  return ["run", "--quiet", ...SHOAL_PERMISSIONS, SHOAL_CLI, ...withoutDiscovery(args)];
}

/** Runs the shoal CLI from this checkout with the permissions the README documents. */
export function runShoal(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<RunResult> {
  return run(Deno.execPath(), shoalArgs(args), {
    cwd: options.cwd,
    env: { NO_COLOR: "1", ...options.env },
  });
}

/** The last status line (`{"state":…}`) of a `--json` run's output. */
export function lastStatus<T extends Record<string, unknown> = Record<string, unknown>>(
  stdout: string,
): T {
  const lines = stdout.split("\n").filter((line) => line.startsWith('{"state"'));
  if (lines.length === 0) throw new Error(`no status line in:\n${stdout.slice(-2000)}`);
  return JSON.parse(lines.at(-1)!);
}

/** A shoal CLI that runs until stopped (`shoal stream`, a seed), and its output as it comes. */
export interface ShoalChild {
  /** The process. */
  child: Deno.ChildProcess;
  /** Its stdout and stderr, drained as they come. */
  output: OutputWatcher;
  /** Stops it (SIGTERM) and waits for its output to end. */
  stop(): Promise<void>;
}

/**
 * Starts the shoal CLI with `args` (local service discovery and the DHT
 * off), with the README's permissions or, given `permissions`, exactly
 * those (and no prompt).
 */
export function spawnShoal(
  args: string[],
  options: { permissions?: string[]; cwd?: string; env?: Record<string, string> } = {},
): ShoalChild {
  const deno = options.permissions
    ? [
      "run",
      "--quiet",
      "--no-prompt",
      ...options.permissions,
      SHOAL_CLI,
      ...withoutDiscovery(args),
    ]
    : shoalArgs(args);
  const child = new Deno.Command(Deno.execPath(), {
    args: deno,
    cwd: options.cwd,
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = new OutputWatcher(child);
  return {
    child,
    output,
    stop: async () => {
      await stopChild(child);
      await output.done;
    },
  };
}

/** Makes a temporary folder, runs `fn` in it, and removes it afterwards. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "shoal-test-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Writes `length` pseudo-random bytes (seeded, so runs are repeatable) to a file. */
export async function writeRandomFile(path: string, length: number, seed = 1): Promise<Uint8Array> {
  const data = new Uint8Array(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    data[i] = state & 0xff;
  }
  await Deno.writeFile(path, data);
  return data;
}
