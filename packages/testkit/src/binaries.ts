// The Debian binaries the test servers come from, found on PATH or where Debian puts them, with
// a clear "not found on PATH (install …)" error when one is missing.

import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/** Errors raised by the test support, with the server's output tail in the message. */
export class TestSupportError extends Error {
  override name = "TestSupportError";
}

export interface BinarySpec {
  readonly name: string;
  readonly debianPackage: string;
  /** Checked after PATH: Debian puts daemons in /usr/sbin, which a non-root PATH may lack. */
  readonly knownPaths: readonly string[];
}

export const Binaries = {
  natsServer: {
    name: "nats-server",
    debianPackage: "nats-server",
    knownPaths: ["/usr/sbin/nats-server", "/usr/bin/nats-server"],
  },
  nginx: { name: "nginx", debianPackage: "nginx-light", knownPaths: ["/usr/sbin/nginx"] },
  prometheus: {
    name: "prometheus",
    debianPackage: "prometheus",
    knownPaths: ["/usr/bin/prometheus"],
  },
  sshd: { name: "sshd", debianPackage: "openssh-server", knownPaths: ["/usr/sbin/sshd"] },
  sshKeygen: {
    name: "ssh-keygen",
    debianPackage: "openssh-client",
    knownPaths: ["/usr/bin/ssh-keygen"],
  },
  ssh: { name: "ssh", debianPackage: "openssh-client", knownPaths: ["/usr/bin/ssh"] },
} as const satisfies Record<string, BinarySpec>;

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Absolute path of the binary, from PATH or a known Debian location; throws a clear error. */
export function findBinary(spec: BinarySpec): string {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir !== "" && isExecutable(join(dir, spec.name))) return join(dir, spec.name);
  }
  for (const path of spec.knownPaths) if (isExecutable(path)) return path;
  throw new TestSupportError(
    `${spec.name} not found on PATH (install the Debian package ${spec.debianPackage}, or run npm run setup)`,
  );
}
