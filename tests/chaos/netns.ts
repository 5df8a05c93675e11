// Network namespaces for partition tests: named namespaces joined by veth pairs with /30
// addresses in 10.213.<subnet>.0/24 (nothing else is ever configured), a link that can be cut
// and restored, and commands run inside a namespace (`ip netns exec`). Everything is removed
// by destroy(), and also when the test process exits or is interrupted (the support
// registry's exit hook): processes left in the namespaces are killed, the namespaces deleted
// (which deletes their veth ends, and so the pairs).

import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { onExitCleanup, runCommand, TestSupportError } from "@bluegreen/testkit";

const IP = "ip";

/** Why namespaces cannot be used here, or undefined when they can (root, `ip netns` works). */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "network namespaces need root";
  try {
    execFileSync(IP, ["netns", "list"], { stdio: "ignore", timeout: 5_000 });
    return undefined;
  } catch (error) {
    return `\`ip netns\` is not available: ${(error as Error).message}`;
  }
}

async function ip(args: readonly string[]): Promise<string> {
  const result = await runCommand(IP, args, { timeoutMs: 10_000 });
  if (result.code !== 0) {
    throw new TestSupportError(`ip ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
  }
  return result.stdout;
}

/** One end of a veth pair: in a namespace (or the root one when `ns` is undefined). */
export interface LinkEnd {
  readonly ns: string | undefined;
  readonly dev: string;
  readonly address: string;
}

export interface Link {
  readonly a: LinkEnd;
  readonly b: LinkEnd;
}

export interface NetLab {
  /** 10.213.<subnet>.0/24 holds every address of this lab. */
  readonly subnet: number;
  /** Creates namespace `bg-<tag>-<name>` with its loopback up; returns its name. */
  namespace(name: string): Promise<string>;
  /** A veth pair between two namespaces (undefined: the root one), the next /30 of the lab. */
  link(aNs: string | undefined, bNs: string | undefined): Promise<Link>;
  /** Sets one end of a link down (a cut) or up (restored). */
  setLink(end: LinkEnd, state: "up" | "down"): Promise<void>;
  /** argv that runs `argv` inside namespace `ns`. */
  exec(ns: string, argv: readonly string[]): string[];
  destroy(): Promise<void>;
}

const nsArgs = (ns: string | undefined) => (ns === undefined ? [] : ["-n", ns]);

/** Picks a free 10.213.x.0/24 (no root address in it) and a tag no namespace uses yet. */
async function pickSubnet(): Promise<{ subnet: number; tag: string }> {
  const used = await ip(["-o", "-4", "addr", "show"]);
  const namespaces = await ip(["netns", "list"]);
  for (let attempt = 0; attempt < 50; attempt++) {
    const subnet = randomBytes(1)[0] as number;
    const tag = randomBytes(2).toString("hex");
    if (used.includes(`10.213.${subnet}.`) || namespaces.includes(`bg-${tag}-`)) continue;
    return { subnet, tag };
  }
  throw new TestSupportError("no free 10.213.x.0/24 for the network namespaces");
}

/** Kills what runs in the namespaces and deletes them, synchronously (for the exit hook). */
function destroyNow(namespaces: readonly string[]): void {
  for (const ns of namespaces) {
    try {
      const pids = execFileSync(IP, ["netns", "pids", ns], { encoding: "utf8", timeout: 5_000 });
      for (const pid of pids.split("\n").filter(Boolean)) {
        try {
          process.kill(Number(pid), "SIGKILL");
        } catch {
          // already gone
        }
      }
    } catch {
      // the namespace is gone already
    }
  }
  for (const ns of namespaces) {
    try {
      execFileSync(IP, ["netns", "del", ns], { stdio: "ignore", timeout: 5_000 });
    } catch {
      // already gone
    }
  }
}

export async function createNetLab(): Promise<NetLab> {
  const { subnet, tag } = await pickSubnet();
  const namespaces: string[] = [];
  const links: Link[] = [];
  let destroyed = false;
  onExitCleanup(() => {
    if (!destroyed) destroyNow(namespaces);
  });
  return {
    subnet,
    namespace: async (name) => {
      const ns = `bg-${tag}-${name}`;
      await ip(["netns", "add", ns]);
      namespaces.push(ns);
      await ip(["-n", ns, "link", "set", "lo", "up"]);
      return ns;
    },
    link: async (aNs, bNs) => {
      const i = links.length;
      if (i >= 63) throw new TestSupportError("a lab holds at most 63 links");
      const a: LinkEnd = {
        ns: aNs,
        dev: `bg${tag}l${i}a`,
        address: `10.213.${subnet}.${i * 4 + 1}`,
      };
      const b: LinkEnd = {
        ns: bNs,
        dev: `bg${tag}l${i}b`,
        address: `10.213.${subnet}.${i * 4 + 2}`,
      };
      // Created from the root namespace, each end placed in its own.
      const placed = (ns: string | undefined) => (ns === undefined ? [] : ["netns", ns]);
      await ip([
        ...["link", "add", a.dev, ...placed(aNs)],
        ...["type", "veth", "peer", "name", b.dev, ...placed(bNs)],
      ]);
      const link = { a, b };
      links.push(link);
      for (const end of [a, b]) {
        await ip([...nsArgs(end.ns), "addr", "add", `${end.address}/30`, "dev", end.dev]);
        await ip([...nsArgs(end.ns), "link", "set", end.dev, "up"]);
      }
      return link;
    },
    setLink: async (end, state) => {
      await ip([...nsArgs(end.ns), "link", "set", end.dev, state]);
    },
    exec: (ns, argv) => [IP, "netns", "exec", ns, ...argv],
    destroy: async () => {
      if (destroyed) return;
      destroyed = true;
      destroyNow(namespaces);
      // A root-side end goes with its peer; make sure none is left.
      for (const link of links) {
        for (const end of [link.a, link.b]) {
          if (end.ns !== undefined) continue;
          await runCommand(IP, ["link", "del", end.dev], { timeoutMs: 5_000 });
        }
      }
    },
  };
}
