import { describe, expect, it } from "vitest";
import { KeyedQueue } from "./keyed-queue.ts";

const defer = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
};

describe("KeyedQueue", () => {
  it("runs tasks of one key one at a time, in order, even when one fails", async () => {
    const queue = new KeyedQueue();
    const log: string[] = [];
    const gate = defer();
    const a = queue.run("emily", async () => {
      log.push("a start");
      await gate.promise;
      log.push("a end");
      throw new Error("a failed");
    });
    const b = queue.run("emily", async () => {
      log.push("b");
      return 2;
    });
    await Promise.resolve();
    expect(log).toEqual(["a start"]);
    gate.resolve();
    await expect(a).rejects.toThrow("a failed");
    await expect(b).resolves.toBe(2);
    expect(log).toEqual(["a start", "a end", "b"]);
  });

  it("does not make one key wait for another", async () => {
    const queue = new KeyedQueue();
    const gate = defer();
    const slow = queue.run("emily", () => gate.promise);
    await expect(queue.run("other", async () => "fast")).resolves.toBe("fast");
    expect(queue.busy).toContain("emily");
    gate.resolve();
    await slow;
    await queue.idle();
    await new Promise((r) => setTimeout(r, 0));
    expect(queue.busy).toEqual([]);
  });
});
