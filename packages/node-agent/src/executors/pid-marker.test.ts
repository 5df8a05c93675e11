import { spawn, spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import {
  killGroupCommand,
  PID_ANNOUNCE,
  PidMarkerFilter,
  parseProbe,
  probeGroupArgv,
} from "./pid-marker.ts";
import { hostBootId, parseStat, signalGroup, statOf } from "./process-group.ts";

const feedAll = (filter: PidMarkerFilter, parts: string[]) =>
  parts.map((p) => filter.feed(Buffer.from(p)).toString()).join("") + filter.flush().toString();

describe("PidMarkerFilter", () => {
  it("takes the marker out and keeps the rest of stderr", () => {
    const filter = new PidMarkerFilter();
    expect(feedAll(filter, ["bluegreen-step-pid 4242\nwarning: x\n"])).toBe("warning: x\n");
    expect(filter.pid).toBe(4242);
  });

  it("finds a marker split across chunks, after noise from a login script", () => {
    const filter = new PidMarkerFilter();
    expect(feedAll(filter, ["pyenv: noise\nbluegreen-st", "ep-pid 77", "\nerror: failed"])).toBe(
      "pyenv: noise\nerror: failed",
    );
    expect(filter.pid).toBe(77);
  });

  it("finds a marker glued to a login script's words that ended without a newline", () => {
    const filter = new PidMarkerFilter();
    expect(
      feedAll(filter, ["motd: welcome", "bluegreen-step-pid 91 boot-1 x\n", "step output\n"]),
    ).toBe("motd: welcome\nstep output\n");
    expect(filter.pid).toBe(91);
    expect(filter.bootId).toBe("boot-1");
  });

  it("passes everything through when there is no marker", () => {
    const filter = new PidMarkerFilter();
    expect(feedAll(filter, ["a\n", "b"])).toBe("a\nb");
    expect(filter.pid).toBeUndefined();
  });

  it.each(["0", "1", "99999999999999999999"])(
    "takes out but does not believe a marker with pid %s (no group to signal)",
    (pid) => {
      const filter = new PidMarkerFilter();
      expect(feedAll(filter, [`bluegreen-step-pid ${pid} boot-1 x\nout\n`])).toBe("out\n");
      expect(filter.pid).toBeUndefined();
      expect(filter.refused).toContain(`pid ${pid}`);
    },
  );

  it("keeps binary output intact", () => {
    const filter = new PidMarkerFilter();
    const bytes = Buffer.from([0xff, 0x00, 0xc3, 0xa9, 0x0a]);
    filter.feed(Buffer.from("bluegreen-step-pid 5\n"));
    expect(filter.feed(bytes).equals(bytes)).toBe(true);
  });
});

describe("killGroupCommand", () => {
  it("signals the negative pid (the group)", () => {
    expect(killGroupCommand(4242, "TERM")).toBe("kill -s TERM -- -4242 2>/dev/null; true");
  });
  it("refuses pids that would hit everything", () => {
    expect(() => killGroupCommand(1, "KILL")).toThrow(RangeError);
    expect(() => killGroupCommand(0, "KILL")).toThrow(RangeError);
    expect(() => killGroupCommand(-5, "KILL")).toThrow(RangeError);
  });
});

describe("the announcement's identity (boot id, start time read on the node)", () => {
  const stat = "4242 (my shell) x) S 1 4242 4242 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 987654 0 0";

  it("reads the boot id and field 22 of the stat line, a comm with spaces and parens included", () => {
    const filter = new PidMarkerFilter();
    const out = feedAll(filter, [`bluegreen-step-pid 4242 boot-1 ${stat}\nstep output\n`]);
    expect(out).toBe("step output\n");
    expect(filter).toMatchObject({ pid: 4242, bootId: "boot-1", startTime: "987654" });
  });

  it("a node without /proc announces the pid alone: no boot id, no start time", () => {
    const filter = new PidMarkerFilter();
    feedAll(filter, ["bluegreen-step-pid 4242  \n"]);
    expect(filter).toMatchObject({ pid: 4242, bootId: "", startTime: "" });
  });

  it("parseStat refuses what is not a stat line", () => {
    expect(parseStat(stat)).toEqual({ state: "S", pgrp: 4242, startTime: "987654" });
    expect(parseStat("")).toBeUndefined();
    expect(parseStat("4242 (sh) S 1")).toBeUndefined();
  });

  it("run by a real shell, it names that shell's pid, this boot and its start time", async () => {
    const child = spawn("/bin/sh", ["-c", `${PID_ANNOUNCE}; exec sleep 5`], {
      detached: true,
      stdio: ["ignore", "ignore", "pipe"],
    });
    try {
      const filter = new PidMarkerFilter();
      await new Promise<void>((resolve) =>
        child.stderr.on("data", (chunk: Buffer) => {
          filter.feed(chunk);
          if (filter.pid !== undefined) resolve();
        }),
      );
      expect(filter.pid).toBe(child.pid);
      expect(filter.bootId).toBe(hostBootId());
      expect(filter.startTime).toBe(statOf(String(child.pid))?.startTime);
    } finally {
      signalGroup(child.pid as number, "SIGKILL");
    }
  });
});

describe("the group probe", () => {
  it("passes the pid as an argument, never inside the script", () => {
    const argv = probeGroupArgv(4242);
    expect(argv.slice(0, 2)).toEqual(["/bin/sh", "-c"]);
    expect(argv.slice(3)).toEqual(["probe", "4242"]);
    expect(argv[2]).not.toContain("4242");
    expect(() => probeGroupArgv(1)).toThrow(RangeError);
    expect(() => probeGroupArgv(Number.NaN)).toThrow(RangeError);
  });

  it("parses what it prints, and refuses anything else", () => {
    const stat = "77 (sleep) S 1 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5555 0 0";
    const answer = (boot: string, leader: string, group: string) =>
      `\nbgprobe:boot ${boot}\nbgprobe:stat ${leader}\nbgprobe:group ${group}\n`;
    expect(parseProbe(answer("boot-1", stat, "alive"))).toEqual({
      bootId: "boot-1",
      leader: { state: "S", startTime: "5555" },
      groupAlive: true,
    });
    expect(parseProbe(answer("boot-1", "", "none"))).toEqual({
      bootId: "boot-1",
      leader: undefined,
      groupAlive: false,
    });
    expect(
      parseProbe(`Welcome, says a login script\n${answer("boot-1", stat, "none")}`),
    ).toMatchObject({ bootId: "boot-1", groupAlive: false });
    expect(parseProbe("Welcome!\n")).toBeUndefined();
    expect(parseProbe("boot-1\n\nnone\n")).toBeUndefined();
  });

  it("a login script that prints without a final newline does not glue onto the boot id", () => {
    const child = spawn("sleep", ["5"], { detached: true, stdio: "ignore" });
    const pid = child.pid as number;
    try {
      const [, , script] = probeGroupArgv(pid);
      // What the node's shell runs: the login script's words, then the probe.
      const out = spawnSync("/bin/sh", ["-c", `printf Welcome!; ${script}`, "probe", String(pid)], {
        encoding: "utf8",
      }).stdout;
      expect(parseProbe(out)).toMatchObject({ bootId: hostBootId(), groupAlive: true });
    } finally {
      signalGroup(pid, "SIGKILL");
    }
  });

  it("run by a real shell, it sees a live group, and nothing of one that ended", () => {
    const child = spawn("sleep", ["5"], { detached: true, stdio: "ignore" });
    const pid = child.pid as number;
    const probe = () => {
      const [program, ...args] = probeGroupArgv(pid);
      return parseProbe(spawnSync(program as string, args, { encoding: "utf8" }).stdout);
    };
    try {
      expect(probe()).toEqual({
        bootId: hostBootId(),
        leader: { state: expect.any(String), startTime: statOf(String(pid))?.startTime },
        groupAlive: true,
      });
    } finally {
      signalGroup(pid, "SIGKILL");
    }
    spawnSync("sleep", ["0.2"]);
    expect(probe()?.groupAlive).toBe(false);
  });
});
