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
export function statOf(
  pid: string,
): { state: string; pgrp: number; startTime: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state: fields[0] ?? "?", pgrp: Number(fields[2]), startTime: fields[19] ?? "" };
  } catch {
    return undefined;
  }
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
