// The Debian package and the tarball: the single executable, the five agents' systemd units
// and the dashboard's (the repository's, run from the executable), the example configs, the nginx include directory,
// the `bluegreen` system user made in postinst. Nothing is enabled or started on install.

import { execFileSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { DIST, RELEASE_DIR, REPO } from "./paths.ts";

/** The agents: role, unit, and the example that becomes /etc/bluegreen/<role>.yaml.example. */
export const UNITS = [
  { role: "coordinator", example: "examples/emily/coordinator.yaml" },
  { role: "switcher", example: "examples/emily/switcher.yaml" },
  { role: "node-agent", example: "examples/emily/node-agent-blue.yaml" },
  { role: "monitor", example: "examples/emily/monitor.yaml" },
  { role: "notifier", example: "examples/emily/notifier.yaml" },
] as const;

/** The dashboard's unit (`bluegreen dashboard --shared …`; settings in /etc/bluegreen/dashboard.env). */
export const DASHBOARD_UNIT = "bluegreen-dashboard.service";

export const INSTALLED_EXECUTABLE = "/usr/bin/bluegreen";
export const UNIT_DIR = "/lib/systemd/system";

/**
 * The repository's unit (deploy/systemd) as packaged: ExecStart runs the installed executable
 * (`bluegreen agent <role>`) instead of the checkout's symlinked bin, and the install notes
 * and documentation links name the package's paths.
 */
export function packagedUnit(role: string, executable = INSTALLED_EXECUTABLE): string {
  const text = readFileSync(join(REPO, "deploy/systemd", `bluegreen-${role}.service`), "utf8");
  const out = text
    .replace(
      /^ExecStart=\/usr\/local\/bin\/bluegreen-[\w-]+ /m,
      `ExecStart=${executable} agent ${role} `,
    )
    .replace(
      /^# Install: .*\n(# .*config \/etc.*\n)?/m,
      `# Installed by the bluegreen package: ${executable}, config /etc/bluegreen/${role}.yaml\n# (from ${role}.yaml.example), user bluegreen (made by the package). Not enabled on install.\n`,
    )
    .replace(/^Documentation=.*$/m, "Documentation=man:bluegreen(1)");
  if (!out.includes(`ExecStart=${executable} agent ${role} `))
    throw new Error(`deploy/systemd/bluegreen-${role}.service: no ExecStart to rewrite`);
  return out;
}

/** The dashboard's unit as packaged: ExecStart runs the installed executable's `dashboard`. */
export function packagedDashboardUnit(executable = INSTALLED_EXECUTABLE): string {
  const text = readFileSync(join(REPO, "deploy/systemd", DASHBOARD_UNIT), "utf8");
  const out = text
    .replace(
      /^ExecStart=\/usr\/local\/bin\/bluegreen dashboard /m,
      `ExecStart=${executable} dashboard `,
    )
    .replace(
      /^# Install: .*\n(# .*\n)*?(# .*dashboard\.env\n)(# .*\n)?/m,
      `# Installed by the bluegreen package: ${executable}; NATS settings in /etc/bluegreen/dashboard.env\n# (NATS_URL, NATS_CREDS or NATS_USER/NATS_PASSWORD), user bluegreen (made by the package).\n# Not enabled on install.\n`,
    )
    .replace(/^Documentation=.*$/m, "Documentation=man:bluegreen(1)");
  if (!out.includes(`ExecStart=${executable} dashboard `))
    throw new Error(`deploy/systemd/${DASHBOARD_UNIT}: no ExecStart to rewrite`);
  return out;
}

function write(path: string, text: string | Buffer, mode = 0o644): void {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
  chmodSync(path, mode);
}

const POSTINST = `#!/bin/sh
# The system user the agents run as (all but the switcher, which runs as root: see its unit).
# Nothing is enabled or started: configure /etc/bluegreen/<role>.yaml, then systemctl enable --now.
set -e
if [ "$1" = "configure" ]; then
  if ! getent passwd bluegreen >/dev/null; then
    adduser --system --group --home /var/lib/bluegreen --no-create-home \\
      --gecos "bluegreen agents" --shell /usr/sbin/nologin --quiet bluegreen
  fi
fi
exit 0
`;

const POSTRM = `#!/bin/sh
# On purge: the state directory and the system user go too. /etc/nginx/bluegreen stays when
# the switcher wrote upstream files there (nginx includes them: removing them would break it).
set -e
if [ "$1" = "purge" ]; then
  rm -rf /var/lib/bluegreen
  rmdir /etc/bluegreen 2>/dev/null || true
  if getent passwd bluegreen >/dev/null; then
    deluser --system --quiet bluegreen >/dev/null || true
  fi
  if getent group bluegreen >/dev/null; then
    delgroup --system --quiet bluegreen >/dev/null || true
  fi
fi
exit 0
`;

function debianChangelog(version: string): Buffer {
  const text = `bluegreen (${version}) unstable; urgency=medium

  * Release ${version}: see /usr/share/doc/bluegreen/CHANGELOG.md.gz.

 -- bluegreen maintainers <bluegreen@example.org>  Fri, 04 Dec 2026 00:00:00 +0000
`;
  return gzipSync(text, { level: 9 });
}

const COPYRIGHT = `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: bluegreen

Files: *
Copyright: 2026 bluegreen contributors
License: MIT
 Permission is hereby granted, free of charge, to any person obtaining a copy of this
 software and associated documentation files (the "Software"), to deal in the Software
 without restriction, including without limitation the rights to use, copy, modify, merge,
 publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons
 to whom the Software is furnished to do so, subject to the following conditions:
 .
 The above copyright notice and this permission notice shall be included in all copies or
 substantial portions of the Software.
 .
 THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED,
 INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR
 PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE
 FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR
 OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER
 DEALINGS IN THE SOFTWARE.
 .
 The executable embeds Node.js (MIT, with the licences of its bundled parts, see
 https://github.com/nodejs/node/blob/main/LICENSE) and the npm packages bluegreen depends on
 (MIT, ISC, Apache-2.0 or BSD licences).
`;

/** The tags lintian still gives, each explained (docs/install.md, "The Debian package"). */
const LINTIAN_OVERRIDES = `# /usr/bin/bluegreen is a Node.js single executable application: Debian's node binary with
# the bundled JavaScript injected (postject). Node links its own copies of zlib, and
# Debian's node is not built as PIE; both come with the node binary, not from bluegreen.
bluegreen: embedded-library zlib [usr/bin/bluegreen]
bluegreen: hardening-no-pie [usr/bin/bluegreen]
`;

function manPage(version: string): Buffer {
  const text = `.TH BLUEGREEN 1 "" "bluegreen ${version}" "User Commands"
.SH NAME
bluegreen \\- blue/green deployments behind nginx, driven over NATS
.SH SYNOPSIS
.B bluegreen
.I command
[options]
.br
.B bluegreen agent
.I role
.B \\-\\-config
.I file
.br
.B bluegreen \\-\\-version
.SH DESCRIPTION
The command line (deploy, status, tail, history, promote, abort, rollback, apply, agents,
config, switch, notifications, dashboard: \\fBbluegreen \\-\\-help\\fR) and the five agents
(coordinator, switcher, node\\-agent, monitor, notifier: \\fBbluegreen agent \\-\\-help\\fR) in
one executable. The agents run from the bluegreen\\-<role>.service units, configured in
/etc/bluegreen/<role>.yaml; the shared dashboard from bluegreen\\-dashboard.service.
.SH SEE ALSO
/usr/share/doc/bluegreen/
`;
  return gzipSync(text, { level: 9 });
}

/** Lays out the package's files under `root` (the DEBIAN control directory included). */
function stage(root: string, executable: string, version: string): void {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  chmodSync(root, 0o755);
  mkdirSync(join(root, "usr/bin"), { recursive: true });
  linkSync(executable, join(root, "usr/bin/bluegreen")); // 90 MB: a link, not a copy
  const conffiles: string[] = [];
  for (const { role, example } of UNITS) {
    write(join(root, UNIT_DIR.slice(1), `bluegreen-${role}.service`), packagedUnit(role));
    const etc = `/etc/bluegreen/${role}.yaml.example`;
    write(join(root, etc.slice(1)), readFileSync(join(REPO, example)));
    conffiles.push(etc);
  }
  write(join(root, UNIT_DIR.slice(1), DASHBOARD_UNIT), packagedDashboardUnit());
  write(
    join(root, "usr/lib/sysusers.d/bluegreen.conf"),
    readFileSync(join(REPO, "deploy/sysusers.d/bluegreen.conf")),
  );
  mkdirSync(join(root, "etc/nginx/bluegreen"), { recursive: true });
  const doc = join(root, "usr/share/doc/bluegreen");
  write(join(doc, "copyright"), COPYRIGHT);
  write(join(doc, "changelog.gz"), debianChangelog(version));
  write(
    join(doc, "CHANGELOG.md.gz"),
    gzipSync(readFileSync(join(REPO, "CHANGELOG.md")), { level: 9 }),
  );
  write(join(root, "usr/share/man/man1/bluegreen.1.gz"), manPage(version));
  const installedKb = Number(
    execFileSync("du", ["-sk", "--exclude=DEBIAN", root], { encoding: "utf8" }).split("\t")[0],
  );
  write(
    join(root, "DEBIAN/control"),
    `Package: bluegreen
Version: ${version}
Architecture: amd64
Maintainer: bluegreen maintainers <bluegreen@example.org>
Installed-Size: ${installedKb}
Depends: adduser, libc6 (>= 2.28), libstdc++6 (>= 12), libgcc-s1
Suggests: nginx, nats-server
Section: admin
Priority: optional
Description: blue/green deployments behind nginx, driven over NATS
 One executable: the bluegreen command line (deploy, status, tail, rollback,
 the dashboard...) and its five agents (coordinator, switcher, node-agent,
 monitor, notifier), with their systemd units, example configs in
 /etc/bluegreen and the nginx include directory /etc/nginx/bluegreen.
 Nothing is enabled or started on install.
`,
  );
  write(join(root, "usr/share/lintian/overrides/bluegreen"), LINTIAN_OVERRIDES);
  write(join(root, "DEBIAN/conffiles"), `${conffiles.join("\n")}\n`);
  write(join(root, "DEBIAN/postinst"), POSTINST, 0o755);
  write(join(root, "DEBIAN/postrm"), POSTRM, 0o755);
}

export function debPath(version: string): string {
  return join(RELEASE_DIR, `bluegreen_${version}_amd64.deb`);
}

export function tarballPath(version: string): string {
  return join(RELEASE_DIR, `bluegreen-${version}-linux-x64.tar.gz`);
}

/** Builds the .deb with dpkg-deb (root-owned files; xz level 1: level 6 takes a minute for this size and gains 4 MB). */
export function buildDeb(executable: string, version: string): { path: string; bytes: number } {
  const root = join(DIST, "deb-root");
  stage(root, executable, version);
  mkdirSync(RELEASE_DIR, { recursive: true });
  const out = debPath(version);
  execFileSync("dpkg-deb", ["--root-owner-group", "-Zxz", "-z1", "--build", root, out], {
    stdio: "pipe",
  });
  return { path: out, bytes: statSync(out).size };
}

/**
 * `bluegreen-<v>-linux-x64/`: the executable, the units, the example configs, README, and
 * ci-deploy.sh (what the GitLab component and the GitHub Action run).
 */
export function buildTarball(executable: string, version: string): { path: string; bytes: number } {
  const name = `bluegreen-${version}-linux-x64`;
  const root = join(DIST, "tar", name);
  rmSync(join(DIST, "tar"), { recursive: true, force: true });
  mkdirSync(join(root, "systemd"), { recursive: true });
  mkdirSync(join(root, "examples"), { recursive: true });
  linkSync(executable, join(root, "bluegreen"));
  for (const { role, example } of UNITS) {
    writeFileSync(join(root, "systemd", `bluegreen-${role}.service`), packagedUnit(role));
    copyFileSync(join(REPO, example), join(root, "examples", `${role}.yaml.example`));
  }
  writeFileSync(join(root, "systemd", DASHBOARD_UNIT), packagedDashboardUnit());
  copyFileSync(
    join(REPO, "deploy/sysusers.d/bluegreen.conf"),
    join(root, "systemd/bluegreen.sysusers.conf"),
  );
  for (const file of ["README.md", "CHANGELOG.md"])
    copyFileSync(join(REPO, file), join(root, file));
  copyFileSync(join(REPO, "docs/install.md"), join(root, "INSTALL.md"));
  copyFileSync(join(REPO, "ci/deploy.sh"), join(root, "ci-deploy.sh")); // templates/deploy (GitLab)
  chmodSync(join(root, "ci-deploy.sh"), 0o755);
  mkdirSync(RELEASE_DIR, { recursive: true });
  const out = tarballPath(version);
  execFileSync("tar", ["-C", join(DIST, "tar"), "--owner=0", "--group=0", "-czf", out, name]);
  return { path: out, bytes: statSync(out).size };
}

/** Every file under `dir`, relative. */
export function listFiles(dir: string, prefix = ""): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}
