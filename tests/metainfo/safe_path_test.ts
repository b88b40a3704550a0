import { assertEquals, assertThrows } from "../helpers/assert.ts";
import {
  joinInside,
  PathAllocator,
  sanitizeComponent,
  sanitizePath,
} from "../../lib/metainfo/_safe_path.ts";
import { MAX_DUPLICATE_NAMES } from "../../lib/metainfo/limits.ts";
import { TorrentError } from "../../lib/metainfo/errors.ts";

const linux = { platform: "linux" } as const;
const windows = { platform: "windows" } as const;

Deno.test("safe path: components that climb or vanish are dropped", () => {
  assertEquals(sanitizeComponent("..", linux), undefined);
  assertEquals(sanitizeComponent(".", linux), undefined);
  assertEquals(sanitizeComponent("", linux), undefined);
  assertEquals(sanitizePath(["..", "", ".", "a"], linux), ["a"]);
  assertEquals(sanitizePath(["..", ".."], linux), ["_"]);
  assertEquals(sanitizePath([], linux), ["_"]);
});

Deno.test("safe path: separators are removed, control characters replaced", () => {
  assertEquals(sanitizeComponent("/", linux), "_");
  assertEquals(sanitizeComponent("\\\\", linux), "_");
  assertEquals(sanitizeComponent("/etc/passwd", linux), "etcpasswd");
  assertEquals(sanitizeComponent("../..", linux), "....");
  assertEquals(sanitizeComponent("a\u0000b\nc\u007f", linux), "a_b_c_");
});

Deno.test("safe path: Windows rules apply only on Windows", () => {
  assertEquals(sanitizeComponent('a<b>c:d"e|f?g*h', windows), "a_b_c_d_e_f_g_h");
  assertEquals(sanitizeComponent('a<b>c:d"e|f?g*h', linux), 'a<b>c:d"e|f?g*h');
  assertEquals(sanitizeComponent("CON", windows), "CON_");
  assertEquals(sanitizeComponent("nul.txt", windows), "nul_.txt");
  assertEquals(sanitizeComponent("com1.tar.gz", windows), "com1_.tar.gz");
  assertEquals(sanitizeComponent("aux.c", linux), "aux.c");
  assertEquals(sanitizeComponent("name. ", windows), "name__");
  assertEquals(sanitizeComponent("console", windows), "console");
});

Deno.test("safe path: a Windows device name is one with any extension (found by fuzzing)", () => {
  // NUL.txt and NUL.tar.gz both mean NUL: the `_` goes after the device name, not the last stem.
  assertEquals(sanitizeComponent("nul.tar.gz", windows), "nul_.tar.gz");
  assertEquals(sanitizeComponent("AUX .txt", windows), "AUX_ .txt");
  assertEquals(sanitizeComponent("COM\u00b9", windows), "COM\u00b9_");
  assertEquals(sanitizeComponent("lpt\u00b3.log", windows), "lpt\u00b3_.log");
  assertEquals(sanitizeComponent("nul.tar.gz", linux), "nul.tar.gz");
  assertEquals(sanitizeComponent("control.tar.gz", windows), "control.tar.gz");
});

Deno.test("safe path: a name cut to 255 bytes does not end in a dot or space on Windows (found by fuzzing)", () => {
  for (const cut of [".", " "]) {
    const name = "x".repeat(254) + cut + "y".repeat(40);
    assertEquals(sanitizeComponent(name, windows), "x".repeat(254) + "_");
    assertEquals(sanitizeComponent(name, linux), "x".repeat(254) + cut);
  }
});

Deno.test("safe path: long names are cut to 255 UTF-8 bytes keeping the extension", () => {
  const cut = sanitizeComponent("é".repeat(200) + ".flac", linux) ?? "";
  assertEquals(new TextEncoder().encode(cut).length <= 255, true);
  assertEquals(cut.endsWith(".flac"), true);
  assertEquals(cut.startsWith("éé"), true);
  const noExtension = sanitizeComponent("x".repeat(300), linux) ?? "";
  assertEquals(noExtension.length, 255);
});

Deno.test("safe path: paths nested deeper than the limit are refused", () => {
  assertThrows(() => sanitizePath(Array(65).fill("d"), linux), TorrentError, "nests 65 folders");
});

Deno.test("safe path: duplicate files get numbered names", () => {
  const allocator = new PathAllocator(linux);
  assertEquals(allocator.allocate(["t", "a.txt"]), ["t", "a.txt"]);
  assertEquals(allocator.allocate(["t", "a.txt"]), ["t", "a.1.txt"]);
  assertEquals(allocator.allocate(["t", "a.1.txt"]), ["t", "a.1.1.txt"]);
  assertEquals(allocator.allocate(["t", "A.txt"]), ["t", "A.txt"]);
});

Deno.test("safe path: case-insensitive collisions on Windows and macOS", () => {
  for (const platform of ["windows", "darwin"] as const) {
    const allocator = new PathAllocator({ platform });
    allocator.allocate(["t", "Read.me"]);
    assertEquals(allocator.allocate(["t", "READ.ME"]), ["t", "READ.1.ME"]);
  }
});

Deno.test("safe path: a file and a folder of the same name are told apart", () => {
  const allocator = new PathAllocator(linux);
  assertEquals(allocator.allocate(["t", "x"]), ["t", "x"]);
  assertEquals(allocator.allocate(["t", "x", "inner"]), ["t", "x.1", "inner"]);
  assertEquals(allocator.allocate(["t", "x", "other"]), ["t", "x.1", "other"]);
  assertEquals(allocator.allocate(["t", "d", "f"]), ["t", "d", "f"]);
  assertEquals(allocator.allocate(["t", "d"]), ["t", "d.1"]);
});

Deno.test("safe path: too many files with one name are refused", () => {
  const allocator = new PathAllocator(linux);
  for (let i = 0; i <= MAX_DUPLICATE_NAMES; i++) allocator.allocate(["t", "same"]);
  assertThrows(() => allocator.allocate(["t", "same"]), TorrentError, "More than 100 files");
});

Deno.test("safe path: joinInside refuses components that could escape", () => {
  assertEquals(joinInside("/dl", ["t", "a"]), "/dl/t/a");
  assertEquals(joinInside("/dl/", ["a"]), "/dl/a");
  for (const bad of [[], [".."], ["."], [""], ["a/b"], ["a\\b"], ["a\u0000"]]) {
    assertThrows(() => joinInside("/dl", bad), TorrentError);
  }
});
