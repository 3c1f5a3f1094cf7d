#!/usr/bin/env node
'use strict';
// The `clawposture` command of the npm package: finds the prebuilt binary in this machine's
// platform package (an optionalDependency npm installs only where its os/cpu/libc fit) and runs
// it with the same arguments, terminal and exit status. No install scripts: nothing runs at
// install time. The decisions are in ../lib/select.js; this file is the process plumbing.

const { spawn } = require('node:child_process');
const os = require('node:os');
const select = require('../lib/select.js');
const table = require('../platforms.json');
const { version } = require('../package.json');

const EXIT_USAGE = 2;

function host() {
  const libc =
    process.platform === 'linux'
      ? select.libcFromReportHeader('linux', process.report.getReport().header)
      : null;
  return { os: process.platform, cpu: process.arch, libc };
}

function main() {
  const found = select.findBinary(host(), table, version, [__dirname]);
  if (!found.ok) {
    process.stderr.write(`clawposture: ${found.message}\n`);
    process.exit(EXIT_USAGE);
  }
  const child = spawn(found.binary, process.argv.slice(2), { stdio: 'inherit' });

  // A signal sent to this launcher alone (kill PID, a service manager, npm exec's own
  // forwarding) must reach the program. The terminal's Ctrl-C reaches both already; the
  // wizard reads keys in raw mode, where Ctrl-C is a key and not a signal.
  const forwarded = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const forward = (sig) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
  };
  for (const sig of forwarded) process.on(sig, forward);

  child.on('error', (err) => {
    process.stderr.write(`clawposture: ${select.spawnFailure(found.name, version, found.binary, err)}\n`);
    process.exit(EXIT_USAGE);
  });
  child.on('exit', (code, signal) => {
    for (const sig of forwarded) process.removeListener(sig, forward);
    if (signal) {
      // End the same way, so the caller sees "killed by SIGTERM" and not an exit code.
      process.kill(process.pid, signal);
      // Reached only if that signal does not end a Node process (Node ignores SIGPIPE): the
      // shell's convention for a signal's death instead. A timer, because the signal may be
      // delivered to another of Node's threads a moment after kill() returns.
      setTimeout(() => process.exit(128 + (os.constants.signals[signal] || 0)), 200);
      return;
    }
    process.exit(code === null ? 1 : code);
  });
}

main();
