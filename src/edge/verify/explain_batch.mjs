// clawposture: every `openclaw sandbox explain` of a verify run in ONE OpenClaw process.
// Loaded with `node --import` (through NODE_OPTIONS) before OpenClaw's own entry, it imports
// OpenClaw's own command module (`dist/sandbox-explain-*.mjs`, `sandboxExplainCommand`) from
// the installed package, runs it once per case with a runtime that captures the JSON, prints
// one marked line and exits before the CLI starts. Pinned: another OpenClaw version, or a
// package without that module, prints a `fallback` reason and clawposture runs the CLI.
// Exit only once the line is flushed: stdout to a pipe is asynchronous here, and a
// `process.exit` right after a write beyond the pipe's 64 KiB buffer cuts the line short.
// Never settles, so `await say(…)` stops the entry where it is.
const say = (value) =>
  new Promise(() => {
    process.stdout.write(`\nCLAWPOSTURE_EXPLAIN ${JSON.stringify(value)}\n`, () => process.exit(0));
  });
try {
  const { readdirSync, readFileSync, realpathSync } = await import("node:fs");
  const { dirname, join } = await import("node:path");
  const { pathToFileURL } = await import("node:url");
  const root = dirname(realpathSync(process.argv[1]));
  const version = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version;
  const pin = process.env.CLAWPOSTURE_OPENCLAW_PIN;
  if (version !== pin) await say({ fallback: `OpenClaw ${version} is not the pinned ${pin}` });
  const files = readdirSync(join(root, "dist")).filter((f) =>
    /^sandbox-explain-[A-Za-z0-9_-]+\.mjs$/.test(f),
  );
  if (files.length !== 1) await say({ fallback: `${files.length} sandbox-explain modules in dist/` });
  const mod = await import(pathToFileURL(join(root, "dist", files[0])).href);
  if (typeof mod.sandboxExplainCommand !== "function") {
    await say({ fallback: "dist/sandbox-explain-*.mjs has no sandboxExplainCommand" });
  }
  const cases = JSON.parse(process.env.CLAWPOSTURE_EXPLAIN_CASES ?? "[]");
  const results = [];
  for (const c of cases) {
    let got;
    const runtime = {
      log: (s) => {
        got = s;
      },
      error: () => {},
      exit: (code) => {
        throw new Error(`exit ${code}`);
      },
      writeJson: (v) => {
        got = v;
      },
    };
    try {
      await mod.sandboxExplainCommand(
        { agent: c.agent ?? undefined, session: c.session ?? undefined, json: true },
        runtime,
      );
      results.push({ json: typeof got === "string" ? JSON.parse(got) : got });
    } catch (e) {
      results.push({ error: String(e?.message ?? e) });
    }
  }
  await say({ version, results });
} catch (e) {
  await say({ fallback: `the batch entry failed: ${String(e?.message ?? e)}` });
}
