'use strict';
// Which platform package serves this machine, and where its binary is: pure functions of the
// host facts, the platform table (platforms.json) and the package folders they are given, so
// every platform can be tested here with fixture folders. bin/clawposture.js is the shell.

const fs = require('node:fs');
const path = require('node:path');

const SCOPE = '@clawposture';

/** The npm package name of a platform row, e.g. "@clawposture/cli-linux-x64-gnu". */
function packageName(row) {
  return `${SCOPE}/cli-${row.id}`;
}

/** "glibc" or "musl" on Linux, from a `process.report.getReport().header`; null elsewhere. */
function libcFromReportHeader(osName, header) {
  if (osName !== 'linux') return null;
  // Node fills glibcVersionRuntime only when it runs on glibc.
  return header && header.glibcVersionRuntime ? 'glibc' : 'musl';
}

/** The host as the table describes platforms: { os, cpu, libc }. */
function describeHost(host) {
  return host.libc ? `${host.os}-${host.cpu} (${host.libc})` : `${host.os}-${host.cpu}`;
}

/**
 * The platform row for `host` ({ os, cpu, libc }), or an error whose message names the host and
 * every supported platform (one line).
 */
function selectPlatform(host, table) {
  const row = table.find(
    (r) => r.os === host.os && r.cpu === host.cpu && (!r.libc || r.libc === host.libc),
  );
  if (row) return { ok: true, row, name: packageName(row) };
  const supported = table.map((r) => r.id).join(', ');
  return {
    ok: false,
    message: `clawposture has no prebuilt binary for ${describeHost(host)}; supported: ${supported} (or build it from source with Rust: 'cargo install --path .' in a checkout)`,
  };
}

/** The first bytes every executable of that OS starts with (ELF; Mach-O 64-bit, both orders, and fat). */
const MAGIC = {
  linux: [Buffer.from([0x7f, 0x45, 0x4c, 0x46])],
  darwin: [
    Buffer.from([0xcf, 0xfa, 0xed, 0xfe]),
    Buffer.from([0xfe, 0xed, 0xfa, 0xcf]),
    Buffer.from([0xca, 0xfe, 0xba, 0xbe]),
  ],
};

function reinstall(name, version, why) {
  return {
    ok: false,
    message: `${why}; reinstall ${name}@${version}: npm install clawposture@${version} without --omit=optional (npx: npx clawposture@${version})`,
  };
}

/**
 * Find the binary of platform package `name` for the launcher of `version`, resolving from
 * `paths` (as require.resolve does: each folder and its node_modules parents). Checks what can
 * be checked without running it: the package is there and of the same version, the file is
 * there, has the size the generator recorded, is executable and starts as an executable of that
 * OS should. `resolve` is require.resolve (injectable for tests).
 */
function locateBinary(row, name, version, paths, resolve = require.resolve) {
  let manifestPath;
  try {
    manifestPath = resolve(`${name}/package.json`, { paths });
  } catch (e) {
    // Resolving reads the package's package.json: a damaged one fails here, not below.
    const why =
      e.code === 'MODULE_NOT_FOUND'
        ? `the platform package ${name} is not installed`
        : `the package.json of ${name} cannot be read (${e.message.split('\n')[0]})`;
    return reinstall(name, version, why);
  }
  let manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  } catch (e) {
    return reinstall(name, version, `${manifestPath} cannot be read (${e.message})`);
  }
  if (manifest.version !== version) {
    return reinstall(
      name,
      version,
      `${name} is version ${manifest.version}, but this launcher is ${version}`,
    );
  }
  const meta = manifest.clawposture || {};
  if (typeof meta.binary !== 'string' || typeof meta.size !== 'number') {
    return reinstall(name, version, `${manifestPath} does not say where its binary is`);
  }
  const binary = path.join(path.dirname(manifestPath), meta.binary);
  let stat;
  try {
    stat = fs.statSync(binary);
  } catch {
    return reinstall(name, version, `the binary ${binary} is missing`);
  }
  if (!stat.isFile() || stat.size !== meta.size) {
    return reinstall(
      name,
      version,
      `the binary ${binary} is damaged (${stat.size} bytes, expected ${meta.size})`,
    );
  }
  if ((stat.mode & 0o111) === 0) {
    return reinstall(name, version, `the binary ${binary} is not executable`);
  }
  const head = Buffer.alloc(4);
  let fd;
  try {
    fd = fs.openSync(binary, 'r');
    fs.readSync(fd, head, 0, 4, 0);
  } catch (e) {
    return reinstall(name, version, `the binary ${binary} cannot be read (${e.message})`);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  const magics = MAGIC[row.os] || [];
  if (!magics.some((m) => m.equals(head))) {
    return reinstall(name, version, `the binary ${binary} is not a ${row.os} executable`);
  }
  return { ok: true, binary };
}

/** The whole decision: host facts → binary path, or the one message to print. */
function findBinary(host, table, version, paths, resolve) {
  const sel = selectPlatform(host, table);
  if (!sel.ok) return { ok: false, unsupported: true, message: sel.message };
  const found = locateBinary(sel.row, sel.name, version, paths, resolve);
  return { ...found, name: sel.name };
}

/** What a failure to start the binary means for the user: which package to reinstall. */
function spawnFailure(name, version, binary, err) {
  return reinstall(
    name,
    version,
    `the binary ${binary} could not be started (${err.code || err.message})`,
  ).message;
}

module.exports = {
  SCOPE,
  packageName,
  libcFromReportHeader,
  describeHost,
  selectPlatform,
  locateBinary,
  findBinary,
  spawnFailure,
};
