import { mkdtempSync, writeFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { hashPasswordLine } from "./auth.ts";
import { Authenticator, hostAllowed, parsePasswordFile, verifyPassword } from "./internal.ts";

const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
const basic = (user: string, pass: string) =>
  `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;

describe("who is asking", () => {
  it("a password file: scrypt lines, the right password only", () => {
    const line = hashPasswordLine("alice", "s3cret");
    expect(line).toMatch(/^alice:scrypt\$16384\$/);
    const stored = parsePasswordFile(`# team\n\n${line}\n`).get("alice") as string;
    expect(verifyPassword(stored, "s3cret")).toBe(true);
    expect(verifyPassword(stored, "wrong")).toBe(false);
    const dir = mkdtempSync(join(tmpdir(), "bg-auth-"));
    writeFileSync(join(dir, "passwords"), `${line}\n`);
    const auth = new Authenticator({ kind: "password-file", path: join(dir, "passwords") });
    expect(auth.identify(req({ authorization: basic("alice", "s3cret") }))).toEqual({
      user: "alice",
    });
    expect(auth.identify(req({ authorization: basic("alice", "nope") }))).toBeUndefined();
    expect(auth.identify(req({ authorization: basic("bob", "s3cret") }))).toBeUndefined();
    expect(auth.identify(req({}))).toBeUndefined();
  });

  it("a reverse proxy's header names the person; without it nobody is let in", () => {
    const auth = new Authenticator({ kind: "header", header: "X-Forwarded-User" });
    expect(auth.identify(req({ "x-forwarded-user": "carol" }))).toEqual({ user: "carol" });
    expect(auth.identify(req({}))).toBeUndefined();
    expect(auth.identify(req({ "x-forwarded-user": " " }))).toBeUndefined();
  });

  it("local mode answers to its loopback names only (no DNS rebinding)", () => {
    expect(hostAllowed("127.0.0.1:3100", 3100, false)).toBe(true);
    expect(hostAllowed("localhost:3100", 3100, false)).toBe(true);
    expect(hostAllowed("evil.example:3100", 3100, false)).toBe(false);
    expect(hostAllowed(undefined, 3100, false)).toBe(false);
    expect(hostAllowed("screen.example", 3100, true)).toBe(true);
  });
});

describe("cross-site requests", () => {
  const auth = new Authenticator({ kind: "local", user: "alice@host" });
  const me = { user: "alice@host" };
  const token = auth.csrfToken(me);
  const host = { host: "127.0.0.1:3100" };

  it("the page's own request passes: same origin, same-origin fetch, the token", () => {
    expect(
      auth.crossSite(
        req({
          ...host,
          origin: "http://127.0.0.1:3100",
          "sec-fetch-site": "same-origin",
          "x-bluegreen-csrf": token,
        }),
        me,
      ),
    ).toBeUndefined();
  });

  it("another origin, a cross-site fetch, a missing or foreign token are refused", () => {
    expect(
      auth.crossSite(
        req({ ...host, origin: "http://evil.example", "x-bluegreen-csrf": token }),
        me,
      ),
    ).toMatch(/origin/);
    expect(
      auth.crossSite(
        req({ ...host, "sec-fetch-site": "cross-site", "x-bluegreen-csrf": token }),
        me,
      ),
    ).toMatch(/cross-site/);
    expect(auth.crossSite(req({ ...host }), me)).toMatch(/token/);
    expect(
      auth.crossSite(req({ ...host, "x-bluegreen-csrf": token }), { user: "mallory" }),
    ).toMatch(/token/);
  });
});
