import { describe, expect, it } from "vitest";
import { ctlArgs } from "./node-ctl-args.ts";

const env = {
  BLUEGREEN_NODE_HOST: "127.0.0.1",
  BLUEGREEN_NODE_PORT: "8001",
  BLUEGREEN_COLOR: "green",
};

describe("ctlArgs", () => {
  it("adds the node's host, port and colour to start", () => {
    expect(ctlArgs(["start", "--dir", "emily-green"], env)).toEqual([
      "start",
      "--dir",
      "emily-green",
      "--host",
      "127.0.0.1",
      "--port",
      "8001",
      "--color",
      "green",
    ]);
  });
  it("keeps flags given explicitly", () => {
    expect(ctlArgs(["start", "--dir", "d", "--port", "9000"], env)).toEqual([
      "start",
      "--dir",
      "d",
      "--port",
      "9000",
      "--host",
      "127.0.0.1",
      "--color",
      "green",
    ]);
  });
  it("passes other commands through", () => {
    expect(ctlArgs(["set-version", "--dir", "d", "v1.1"], env)).toEqual([
      "set-version",
      "--dir",
      "d",
      "v1.1",
    ]);
  });
});
