'use strict';
// The launcher's choice of platform package and binary, for every platform in the table, on
// fixture package folders laid out by the real generator (the binaries are a few bytes with
// the right executable header: only linux-x64-gnu can be run on this machine, and that one is
// run by tests/npm_package.rs).

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const select = require('../clawposture/lib/select.js');
const table = require('../clawposture/platforms.json');

const VERSION = '9.8.7';
const HEADERS = {
  linux: Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]),
  darwin: Buffer.from([0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1]),
};

let generator;
test.before(async () => {
  generator = await import('../scripts/generate.mjs');
});

const made = [];
test.after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function tmp() {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'clawposture-select-'));
  made.push(d);
  return d;
}

/** A fixture project whose node_modules holds the platform packages of `ids`. */
function project(ids, version = VERSION) {
  const root = tmp();
  const cargoToml = path.join(root, 'Cargo.toml');
  fs.writeFileSync(cargoToml, `[package]\nname = "clawposture"\nversion = "${version}"\nlicense = "MIT"\n`);
  const scope = path.join(root, 'node_modules', '@clawposture');
  fs.mkdirSync(scope, { recursive: true });
  for (const id of ids) {
    const row = table.find((r) => r.id === id);
    const binary = path.join(root, `${id}.bin`);
    fs.writeFileSync(binary, Buffer.concat([HEADERS[row.os], Buffer.from(`fake ${id}`)]));
    generator.generatePlatform({ id, binary, out: scope, cargoToml });
  }
  return root;
}

function hostOf(row) {
  return { os: row.os, cpu: row.cpu, libc: row.os === 'linux' ? row.libc : null };
}

test('the table names the five platform packages of the issue', () => {
  assert.deepEqual(
    table.map(select.packageName),
    [
      '@clawposture/cli-linux-x64-gnu',
      '@clawposture/cli-linux-arm64-gnu',
      '@clawposture/cli-linux-x64-musl',
      '@clawposture/cli-darwin-arm64',
      '@clawposture/cli-darwin-x64',
    ],
  );
});

test('every platform selects its own package and finds its binary', () => {
  const root = project(table.map((r) => r.id));
  for (const row of table) {
    const found = select.findBinary(hostOf(row), table, VERSION, [root]);
    assert.equal(found.ok, true, `${row.id}: ${found.message}`);
    assert.equal(found.name, select.packageName(row));
    assert.equal(
      found.binary,
      path.join(root, 'node_modules', '@clawposture', `cli-${row.id}`, 'bin', 'clawposture'),
    );
  }
});

test('glibc and musl on linux-x64 get different packages', () => {
  assert.equal(select.selectPlatform({ os: 'linux', cpu: 'x64', libc: 'glibc' }, table).row.id, 'linux-x64-gnu');
  assert.equal(select.selectPlatform({ os: 'linux', cpu: 'x64', libc: 'musl' }, table).row.id, 'linux-x64-musl');
});

test('an unsupported platform gets one line naming it and the supported ones', () => {
  for (const [host, named] of [
    [{ os: 'win32', cpu: 'x64', libc: null }, 'win32-x64'],
    [{ os: 'linux', cpu: 'arm64', libc: 'musl' }, 'linux-arm64 (musl)'],
    [{ os: 'linux', cpu: 'ia32', libc: 'glibc' }, 'linux-ia32 (glibc)'],
    [{ os: 'freebsd', cpu: 'x64', libc: null }, 'freebsd-x64'],
  ]) {
    const sel = select.findBinary(host, table, VERSION, [tmp()]);
    assert.equal(sel.ok, false);
    assert.equal(sel.unsupported, true);
    assert.ok(!sel.message.includes('\n'), sel.message);
    assert.ok(sel.message.includes(named), sel.message);
    for (const row of table) assert.ok(sel.message.includes(row.id), `${row.id} in: ${sel.message}`);
  }
});

test('libc comes from the process report header on Linux only', () => {
  assert.equal(select.libcFromReportHeader('linux', { glibcVersionRuntime: '2.36' }), 'glibc');
  assert.equal(select.libcFromReportHeader('linux', {}), 'musl');
  assert.equal(select.libcFromReportHeader('darwin', { glibcVersionRuntime: '2.36' }), null);
  // This machine: the real report agrees with the C library Node runs on.
  const real = select.libcFromReportHeader(process.platform, process.report.getReport().header);
  if (process.platform === 'linux') {
    const musl = fs.readdirSync('/lib').some((f) => f.startsWith('ld-musl-'));
    assert.equal(real, musl ? 'musl' : 'glibc');
  }
});

test('a missing platform package names the package to reinstall', () => {
  const root = project(['darwin-arm64']);
  const found = select.findBinary({ os: 'linux', cpu: 'x64', libc: 'glibc' }, table, VERSION, [root]);
  assert.equal(found.ok, false);
  assert.equal(found.unsupported, undefined);
  assert.match(found.message, /@clawposture\/cli-linux-x64-gnu is not installed; reinstall @clawposture\/cli-linux-x64-gnu@9\.8\.7/);
});

function damaged(id, harm) {
  const root = project([id]);
  const dir = path.join(root, 'node_modules', '@clawposture', `cli-${id}`);
  harm(dir);
  const row = table.find((r) => r.id === id);
  const found = select.findBinary(hostOf(row), table, VERSION, [root]);
  assert.equal(found.ok, false, `${id} should be refused`);
  assert.ok(found.message.includes(`reinstall @clawposture/cli-${id}@${VERSION}`), found.message);
  return found.message;
}

test('a damaged binary or package names the package to reinstall', () => {
  const bin = (dir) => path.join(dir, 'bin', 'clawposture');
  assert.match(damaged('linux-x64-gnu', (d) => fs.truncateSync(bin(d), 6)), /damaged \(6 bytes, expected 26\)/);
  assert.match(damaged('linux-x64-gnu', (d) => fs.rmSync(bin(d))), /is missing/);
  assert.match(damaged('linux-arm64-gnu', (d) => fs.chmodSync(bin(d), 0o644)), /not executable/);
  // Same size, wrong header: a Linux binary in the macOS package.
  assert.match(
    damaged('darwin-x64', (d) => {
      const b = fs.readFileSync(bin(d));
      HEADERS.linux.copy(b, 0, 0, 4);
      fs.writeFileSync(bin(d), b);
    }),
    /is not a darwin executable/,
  );
  assert.match(
    damaged('linux-x64-musl', (d) => {
      const m = JSON.parse(fs.readFileSync(path.join(d, 'package.json'), 'utf8'));
      m.version = '0.0.1';
      fs.writeFileSync(path.join(d, 'package.json'), JSON.stringify(m));
    }),
    /is version 0\.0\.1, but this launcher is 9\.8\.7/,
  );
  assert.match(damaged('darwin-arm64', (d) => fs.writeFileSync(path.join(d, 'package.json'), '{')), /cannot be read/);
});

test('a binary that fails to start names the package to reinstall', () => {
  const msg = select.spawnFailure('@clawposture/cli-linux-x64-gnu', VERSION, '/x/clawposture', { code: 'ENOEXEC' });
  assert.match(msg, /could not be started \(ENOEXEC\); reinstall @clawposture\/cli-linux-x64-gnu@9\.8\.7/);
});
