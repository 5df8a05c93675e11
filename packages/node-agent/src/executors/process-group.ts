import { readdirSync, readFileSync } from "node:fs";

/** Signals a whole process group; a group that is gone already is not an error. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // gone already
  }
}

/**
 * State, group and start time (clock ticks after boot) of a process from /proc/<pid>/stat
 * (the comm field may hold spaces).
 */
export function statOf(pid: string): ProcessStat | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return undefined;
  }
}

export interface ProcessStat {
  readonly state: string;
  readonly pgrp: number;
  /** Field 22, clock ticks after boot: a reused pid has another. */
  readonly startTime: string;
}

/** One `/proc/<pid>/stat` line (read here or on a node); undefined when it is not one. */
export function parseStat(line: string): ProcessStat | undefined {
  const close = line.lastIndexOf(")");
  if (close === -1) return undefined;
  const fields = line
    .slice(close + 2)
    .trim()
    .split(" ");
  const startTime = fields[19];
  if (startTime === undefined || !/^\d+$/.test(startTime)) return undefined;
  return { state: fields[0] ?? "?", pgrp: Number(fields[2]), startTime };
}

/**
 * Whether any process of the group still runs. Zombies do not count: an orphan is reaped by
 * init whenever init gets to it (in a container, possibly never).
 */
export function groupAlive(pgid: number): boolean {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === "EPERM";
    }
  }
  return entries.some((name) => {
    if (!/^\d+$/.test(name)) return false;
    const stat = statOf(name);
    return stat !== undefined && stat.pgrp === pgid && stat.state !== "Z";
  });
}

/** This host's boot id ("unknown" when it cannot be read). */
export function hostBootId(): string {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    return "unknown";
  }
}

/** What a host holds now of a process group: its boot, the leader if it lives, any member. */
export interface GroupSighting {
  readonly bootId: string;
  readonly leader?: { readonly state: string; readonly startTime: string } | undefined;
  readonly groupAlive: boolean;
}

/** Where a step's group runs: this host, or a node over SSH. */
export interface GroupHost {
  look(pgid: number): Promise<GroupSighting>;
  signal(pgid: number, signal: "TERM" | "KILL"): Promise<void>;
  close(): Promise<void>;
}

/** This host's groups, through /proc and kill(2). */
export const localGroupHost: GroupHost = {
  look: async (pgid) => ({
    bootId: hostBootId(),
    leader: statOf(String(pgid)),
    groupAlive: groupAlive(pgid),
  }),
  signal: async (pgid, signal) => signalGroup(pgid, `SIG${signal}`),
  close: async () => undefined,
};
