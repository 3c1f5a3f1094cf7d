// clawposture: the whole OpenClaw phase of verify in ONE OpenClaw process. Loaded with
// `node --import` (through NODE_OPTIONS) before OpenClaw's own launcher, it runs each CLI command
// verify needs (`security audit --json`, `config validate --json`, `policy check …`, `policy
// compare …`) through OpenClaw's own CLI main (`dist/cli/run-main.js`, `runCli`) one after the
// other, with stdout, stderr and the exit code captured per command, then every `sandbox explain`
// case through OpenClaw's own command module (`dist/sandbox-explain-*.mjs`,
// `sandboxExplainCommand`), prints one marked line and exits before the launcher starts. Why one
// process: each CLI process spends most of its time loading modules and in the config preflight
// (plugin metadata, a read-only snapshot of the state database through worker processes); here
// that happens once, and later commands reuse what OpenClaw keeps per process.
// Pinned: another OpenClaw version, or a package without these modules, prints a marked
// `CLAWPOSTURE_FALLBACK` line on stderr and steps aside: the launcher then runs the command on
// the command line (verify gives `security audit --json`), and clawposture runs the rest as
// separate CLI calls.
// Exit only once the line is flushed: stdout to a pipe is asynchronous here, and a
// `process.exit` right after a write beyond the pipe's 64 KiB buffer cuts the line short.
const realOut = process.stdout.write.bind(process.stdout);
const realErr = process.stderr.write.bind(process.stderr);
const realExit = process.exit;
const batch = process.env.CLAWPOSTURE_BATCH;
// Nothing OpenClaw starts (its own worker processes, npm) may run this entry again.
delete process.env.NODE_OPTIONS;
delete process.env.CLAWPOSTURE_BATCH;
const t0 = performance.now();
const secs = (t) => ((performance.now() - t) / 1000).toFixed(1);
const progress = (line) => realErr(`CLAWPOSTURE_PROGRESS ${line}\n`);
// Says why and answers nothing: the launcher then runs the command line as the plain CLI.
const stepAside = (why) => {
  realErr(`\nCLAWPOSTURE_FALLBACK ${why}\n`);
};
const argv = [...process.argv];
const launcher = argv[1] ?? "";
async function main() {
  const { readdirSync, readFileSync, realpathSync, statSync } = await import("node:fs");
  const { basename, dirname, join } = await import("node:path");
  const { pathToFileURL } = await import("node:url");
  const nodeModule = await import("node:module");
  const os = await import("node:os");
  const real = realpathSync(launcher);
  if (basename(real) !== "openclaw.mjs") return stepAside(`not started through openclaw.mjs (${real})`);
  const root = dirname(real);
  const pkg = join(root, "package.json");
  const version = JSON.parse(readFileSync(pkg, "utf8")).version;
  const pin = process.env.CLAWPOSTURE_OPENCLAW_PIN;
  if (version !== pin) return stepAside(`OpenClaw ${version} is not the pinned ${pin}`);
  const dist = join(root, "dist");
  const one = (re, what) => {
    const files = readdirSync(dist).filter((f) => re.test(f));
    if (files.length !== 1) throw new Error(`${files.length} ${what} modules in dist/`);
    return pathToFileURL(join(dist, files[0])).href;
  };
  const explainUrl = one(/^sandbox-explain-[A-Za-z0-9_-]+\.mjs$/, "sandbox-explain");
  const { commands = [], explain = [], compileCache } = JSON.parse(batch ?? "{}");
  // Node's compile cache, as OpenClaw's launcher enables it (a NODE_COMPILE_CACHE in the
  // environment wins: Node enabled it before this entry), in the private directory clawposture
  // gives.
  if (compileCache && process.env.NODE_DISABLE_COMPILE_CACHE === undefined) {
    const st = statSync(pkg);
    nodeModule.enableCompileCache?.(join(compileCache, "openclaw", version, `${Math.trunc(st.mtimeMs)}-${st.size}`));
  }
  // What OpenClaw's entry does before its CLI main: mark children as started by the CLI.
  process.env.OPENCLAW_CLI = "1";
  const { runCli } = await import(pathToFileURL(join(dist, "cli", "run-main.js")).href);
  if (typeof runCli !== "function") return stepAside("dist/cli/run-main.js has no runCli");
  const { sandboxExplainCommand } = await import(explainUrl);
  if (typeof sandboxExplainCommand !== "function") {
    return stepAside("dist/sandbox-explain-*.mjs has no sandboxExplainCommand");
  }
  const results = [];
  for (const { args, label } of commands) {
    progress(`${label} …`);
    const t = performance.now();
    let stdout = "";
    let stderr = "";
    let exited;
    const sink = (append) => (chunk, enc, cb) => {
      if (exited === undefined) append(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString());
      const done = typeof enc === "function" ? enc : cb;
      if (typeof done === "function") queueMicrotask(done);
      return true;
    };
    process.stdout.write = sink((s) => (stdout += s));
    process.stderr.write = sink((s) => (stderr += s));
    // A command that ends the process ends here instead; what it would have printed after
    // that point never reached the CLI's output either.
    process.exit = (code) => {
      exited ??= typeof code === "number" ? code : (process.exitCode ?? 0);
      throw Object.assign(new Error(`process.exit(${exited})`), { clawpostureExit: exited });
    };
    process.argv = [argv[0], launcher, ...args];
    process.exitCode = undefined;
    let rc;
    let error;
    try {
      await runCli(process.argv);
    } catch (e) {
      if (exited !== undefined) rc = exited;
      else if (e?.name === "ExitError" && typeof e.code === "number") rc = e.code;
      else error = String(e?.stack ?? e);
    } finally {
      process.stdout.write = realOut;
      process.stderr.write = realErr;
      process.exit = realExit;
    }
    rc ??= exited ?? (typeof process.exitCode === "number" ? process.exitCode : 0);
    process.exitCode = undefined;
    results.push(error === undefined ? { rc, stdout, stderr } : { error, stdout, stderr });
    progress(`${label} ${error === undefined ? `done (exit ${rc})` : "failed"} after ${secs(t)} s`);
  }
  const explained = [];
  if (explain.length > 0) {
    const t = performance.now();
    progress(`openclaw sandbox explain (${explain.length} case(s)) …`);
    for (const c of explain) {
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
        await sandboxExplainCommand(
          { agent: c.agent ?? undefined, session: c.session ?? undefined, json: true },
          runtime,
        );
        explained.push({ json: typeof got === "string" ? JSON.parse(got) : got });
      } catch (e) {
        explained.push({ error: String(e?.message ?? e) });
      }
    }
    progress(`openclaw sandbox explain (${explain.length} case(s)) done after ${secs(t)} s`);
  }
  progress(`one OpenClaw process: everything done after ${secs(t0)} s`);
  return { version, commands: results, explain: explained };
}
let answer;
try {
  answer = await main();
} catch (e) {
  process.argv = argv;
  stepAside(`the batch entry failed: ${String(e?.message ?? e)}`);
}
if (answer) {
  await new Promise(() => {
    realOut(`\nCLAWPOSTURE_BATCH ${JSON.stringify(answer)}\n`, () => realExit(0));
  });
}
