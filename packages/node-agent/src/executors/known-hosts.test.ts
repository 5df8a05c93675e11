import { createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  HostKeyVerdict,
  hostKeyAlgorithms,
  hostKeysFor,
  knownHostsName,
  parseKnownHosts,
  verifyHostKey,
} from "./known-hosts.ts";

const keyA = randomBytes(51);
const keyB = randomBytes(51);
const b64 = (b: Buffer) => b.toString("base64");

function hashed(name: string): string {
  const salt = randomBytes(20);
  const hash = createHmac("sha1", salt).update(name).digest();
  return `|1|${b64(salt)}|${b64(hash)}`;
}

describe("knownHostsName", () => {
  it("uses the bare host for port 22 and [host]:port otherwise", () => {
    expect(knownHostsName("node1", 22)).toBe("node1");
    expect(knownHostsName("127.0.0.1", 2222)).toBe("[127.0.0.1]:2222");
  });
});

describe("hostKeysFor + verifyHostKey", () => {
  const text = [
    "# comment",
    "",
    `[127.0.0.1]:2222 ssh-ed25519 ${b64(keyA)} test-host`,
    `node1,node2 ssh-ed25519 ${b64(keyB)}`,
    `${hashed("[10.0.0.11]:2200")} ssh-ed25519 ${b64(keyA)}`,
    `*.example.org,!bad.example.org ssh-ed25519 ${b64(keyB)}`,
    "garbage line",
  ].join("\n");
  const entries = parseKnownHosts(text);

  it("accepts the listed key for [host]:port", () => {
    const known = hostKeysFor(entries, "127.0.0.1", 2222);
    expect(verifyHostKey(known, keyA)).toBe(HostKeyVerdict.ok);
  });

  it("reports a mismatch when the host is listed with another key", () => {
    const known = hostKeysFor(entries, "127.0.0.1", 2222);
    expect(verifyHostKey(known, keyB)).toBe(HostKeyVerdict.mismatch);
  });

  it("reports unknown for a host or a port that is not listed", () => {
    expect(verifyHostKey(hostKeysFor(entries, "127.0.0.1", 2223), keyA)).toBe(
      HostKeyVerdict.unknown,
    );
    expect(verifyHostKey(hostKeysFor(entries, "127.0.0.1", 22), keyA)).toBe(HostKeyVerdict.unknown);
  });

  it("matches comma-separated, hashed and wildcard patterns", () => {
    expect(verifyHostKey(hostKeysFor(entries, "node2", 22), keyB)).toBe(HostKeyVerdict.ok);
    expect(verifyHostKey(hostKeysFor(entries, "10.0.0.11", 2200), keyA)).toBe(HostKeyVerdict.ok);
    expect(verifyHostKey(hostKeysFor(entries, "a.example.org", 22), keyB)).toBe(HostKeyVerdict.ok);
  });

  it("honours negated patterns", () => {
    expect(verifyHostKey(hostKeysFor(entries, "bad.example.org", 22), keyB)).toBe(
      HostKeyVerdict.unknown,
    );
  });

  it("refuses a revoked key even when listed for the host", () => {
    const withRevoked = parseKnownHosts(`${text}\n@revoked * ssh-ed25519 ${b64(keyA)}`);
    expect(verifyHostKey(hostKeysFor(withRevoked, "127.0.0.1", 2222), keyA)).toBe(
      HostKeyVerdict.revoked,
    );
  });

  it("offers the key types known for the host", () => {
    const rsa = parseKnownHosts(`h ssh-rsa ${b64(keyA)}\nh ssh-ed25519 ${b64(keyB)}`);
    expect(hostKeyAlgorithms(hostKeysFor(rsa, "h", 22))).toEqual([
      "rsa-sha2-512",
      "rsa-sha2-256",
      "ssh-rsa",
      "ssh-ed25519",
    ]);
  });
});
