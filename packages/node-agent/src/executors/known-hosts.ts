import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * The OpenSSH known_hosts format, read without I/O: plain and hashed (`|1|salt|hash`) host
 * patterns, `[host]:port` for ports other than 22, `*`/`?` wildcards, `!` negation, and the
 * `@revoked` marker (`@cert-authority` lines are skipped: certificates are not supported).
 */

export interface KnownHostKey {
  readonly type: string;
  readonly blob: Buffer;
}

interface Entry {
  readonly marker: "revoked" | undefined;
  readonly patterns: readonly string[];
  readonly key: KnownHostKey;
}

export interface HostKeys {
  /** Keys accepted for the host. */
  readonly keys: readonly KnownHostKey[];
  /** Keys that must be refused even if listed elsewhere. */
  readonly revoked: readonly KnownHostKey[];
}

export const HostKeyVerdict = {
  ok: "ok",
  mismatch: "mismatch",
  revoked: "revoked",
  unknown: "unknown",
} as const;
export type HostKeyVerdict = (typeof HostKeyVerdict)[keyof typeof HostKeyVerdict];

/** The name a host is looked up by: `host` for port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function parseLine(line: string): Entry | undefined {
  const trimmed = line.trim();
  if (trimmed === "" || trimmed.startsWith("#")) return undefined;
  const fields = trimmed.split(/\s+/);
  let marker: Entry["marker"];
  if (fields[0]?.startsWith("@")) {
    const m = fields.shift();
    if (m !== "@revoked") return undefined;
    marker = "revoked";
  }
  const [patterns, type, base64] = fields;
  if (patterns === undefined || type === undefined || base64 === undefined) return undefined;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return undefined;
  return {
    marker,
    patterns: patterns.split(","),
    key: { type, blob: Buffer.from(base64, "base64") },
  };
}

export function parseKnownHosts(text: string): Entry[] {
  return text.split(/\r?\n/).flatMap((line) => {
    const entry = parseLine(line);
    return entry === undefined ? [] : [entry];
  });
}

function wildcardMatch(pattern: string, name: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
    "i",
  );
  return regex.test(name);
}

function hashedMatch(pattern: string, name: string): boolean {
  const [, kind, salt64, hash64] = pattern.split("|");
  if (kind !== "1" || salt64 === undefined || hash64 === undefined) return false;
  const expected = Buffer.from(hash64, "base64");
  const actual = createHmac("sha1", Buffer.from(salt64, "base64")).update(name).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

function patternsMatch(patterns: readonly string[], name: string): boolean {
  let matched = false;
  for (const raw of patterns) {
    const negated = raw.startsWith("!");
    const pattern = negated ? raw.slice(1) : raw;
    const hit = pattern.startsWith("|") ? hashedMatch(pattern, name) : wildcardMatch(pattern, name);
    if (hit && negated) return false;
    if (hit) matched = true;
  }
  return matched;
}

export function hostKeysFor(entries: readonly Entry[], host: string, port: number): HostKeys {
  const name = knownHostsName(host, port);
  const keys: KnownHostKey[] = [];
  const revoked: KnownHostKey[] = [];
  for (const entry of entries) {
    if (entry.marker === "revoked") {
      // A revoked key is refused for every host, whatever its patterns say.
      revoked.push(entry.key);
    } else if (patternsMatch(entry.patterns, name)) {
      keys.push(entry.key);
    }
  }
  return { keys, revoked };
}

/** Compares the key the server presented (its SSH wire blob) with the known-hosts entries. */
export function verifyHostKey(known: HostKeys, presented: Buffer): HostKeyVerdict {
  if (known.revoked.some((k) => k.blob.equals(presented))) return HostKeyVerdict.revoked;
  if (known.keys.length === 0) return HostKeyVerdict.unknown;
  return known.keys.some((k) => k.blob.equals(presented))
    ? HostKeyVerdict.ok
    : HostKeyVerdict.mismatch;
}

/** The host key algorithms to offer, so the server presents a key type we know for it. */
export function hostKeyAlgorithms(known: HostKeys): string[] {
  const out = new Set<string>();
  for (const { type } of known.keys) {
    if (type === "ssh-rsa") {
      out.add("rsa-sha2-512");
      out.add("rsa-sha2-256");
    }
    out.add(type);
  }
  return [...out];
}
