/**
 * A real nginx (Debian's) serving a folder on a loopback port, for web seed
 * tests: its own configuration, logs and temporary files in a folder of
 * its own, in the foreground, one process.
 *
 * `limitRate` (nginx's `limit_rate`, such as `2m`) slows each answer, so
 * that peers have a share to give beside it. `/moved/<path>` answers with a
 * redirect (302) to `/<path>`.
 *
 * @module
 */

import { type PeerProcess, spawnPeerProgram, waitForTcp } from "./processes.ts";
import { freePort } from "./trackers.ts";

/** A running nginx. */
export interface Nginx {
  /** `http://127.0.0.1:<port>/`. */
  url: string;
  /** The requests it logged so far: method, path, status, Range header. */
  requests(): Promise<{ method: string; path: string; status: number; range: string }[]>;
  /** Stops it and removes its folder. */
  stop(): Promise<void>;
}

/** Where nginx is: on PATH, or in /usr/sbin (not on every user's PATH). */
export function nginxPath(): string {
  for (const dir of [...(Deno.env.get("PATH") ?? "").split(":"), "/usr/sbin"]) {
    try {
      if (dir && Deno.statSync(`${dir}/nginx`).isFile) return `${dir}/nginx`;
    } catch {
      // not here
    }
  }
  return "/usr/sbin/nginx";
}

/** Starts nginx serving `root` on 127.0.0.1. */
export async function startNginx(
  root: string,
  options: { limitRate?: string } = {},
): Promise<Nginx> {
  const dir = await Deno.makeTempDir({ prefix: "shoal-nginx-" });
  const port = freePort();
  const log = `${dir}/access.log`;
  await Deno.writeTextFile(
    `${dir}/nginx.conf`,
    `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  log_format shoal '$request_method $request_uri $status "$http_range"';
  access_log ${log} shoal;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  sendfile on;
  server {
    listen 127.0.0.1:${port};
    root ${root};${options.limitRate ? `\n    limit_rate ${options.limitRate};` : ""}
    # /moved/<path> redirects (302) to /<path>.
    location /moved/ { rewrite ^/moved/(.*)$ /$1 redirect; }
  }
}
`,
  );
  const process: PeerProcess = spawnPeerProgram(
    nginxPath(),
    ["-p", dir, "-c", `${dir}/nginx.conf`, "-e", `${dir}/error.log`],
    dir,
  );
  try {
    await waitForTcp(port, process.child, "nginx");
  } catch (error) {
    await process.stop();
    throw new Error(`${(error as Error).message}\n${process.output.text}`);
  }
  return {
    url: `http://127.0.0.1:${port}/`,
    requests: async () => {
      const text = await Deno.readTextFile(log).catch(() => "");
      return text.split("\n").filter(Boolean).map((line) => {
        const [method, path, status, ...rest] = line.split(" ");
        return {
          method,
          path,
          status: Number(status),
          range: rest.join(" ").replace(/^"|"$/g, ""),
        };
      });
    },
    stop: () => process.stop(),
  };
}
