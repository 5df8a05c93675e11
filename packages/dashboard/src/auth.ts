// Who is asking, and whether a request that changes something may go through. Local mode
// (`bluegreen dashboard` on loopback) trusts the person who started it; shared mode (the team
// screen) knows people by a password file (HTTP Basic) or by a header its reverse proxy sets
// after its own authentication. Either way a state-changing request must come from the
// dashboard's own page: same Origin, and the page's anti-forgery token in a header (a header
// another site cannot set without a CORS preflight the dashboard never grants).

import { createHmac, randomBytes, scryptSync, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";

export type AuthConfig =
  | { kind: "local"; user: string }
  | { kind: "password-file"; path: string }
  | { kind: "header"; header: string };

export interface Identity {
  user: string;
}

/** The header the page sends its anti-forgery token in. */
export const CSRF_HEADER = "x-bluegreen-csrf";

const SCRYPT_KEYLEN = 32;
const SCRYPT_N = 16_384;

/** One line of a password file: `name:scrypt$N$salt$hash` (base64). */
export function hashPasswordLine(user: string, password: string): string {
  if (!/^[A-Za-z0-9._@-]{1,64}$/.test(user)) throw new Error(`'${user}' is not a valid user name`);
  const salt = randomBytes(16);
  const hash = scryptSync(password, salt, SCRYPT_KEYLEN, { N: SCRYPT_N });
  return `${user}:scrypt$${SCRYPT_N}$${salt.toString("base64")}$${hash.toString("base64")}`;
}

/** Parses a password file (comments and blank lines ignored): user → stored hash. */
export function parsePasswordFile(text: string): Map<string, string> {
  const users = new Map<string, string>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const colon = line.indexOf(":");
    if (colon <= 0)
      throw new Error(`password file: expected 'user:scrypt$…', got '${line.slice(0, 20)}…'`);
    users.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return users;
}

export function verifyPassword(stored: string, password: string): boolean {
  const [scheme, n, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || n === undefined || salt === undefined || hash === undefined)
    return false;
  const want = Buffer.from(hash, "base64");
  const got = scryptSync(password, Buffer.from(salt, "base64"), want.length, { N: Number(n) });
  return want.length > 0 && timingSafeEqual(want, got);
}

export class Authenticator {
  private readonly secret = randomBytes(32);
  private readonly users: Map<string, string> | undefined;
  /** Verified Basic credentials, so scrypt runs once per person and password. */
  private readonly verified = new Map<string, string>();

  constructor(readonly config: AuthConfig) {
    this.users =
      config.kind === "password-file"
        ? parsePasswordFile(readFileSync(config.path, "utf8"))
        : undefined;
  }

  /** Who asks, or undefined (answer 401). */
  identify(req: IncomingMessage): Identity | undefined {
    switch (this.config.kind) {
      case "local":
        return { user: this.config.user };
      case "header": {
        const value = req.headers[this.config.header.toLowerCase()];
        const user = Array.isArray(value) ? value[0] : value;
        return user === undefined || user.trim() === ""
          ? undefined
          : { user: user.trim().slice(0, 128) };
      }
      case "password-file": {
        const auth = req.headers.authorization;
        if (auth === undefined || !auth.startsWith("Basic ")) return undefined;
        const known = this.verified.get(auth);
        if (known !== undefined) return { user: known };
        const decoded = Buffer.from(auth.slice(6), "base64").toString("utf8");
        const colon = decoded.indexOf(":");
        if (colon <= 0) return undefined;
        const user = decoded.slice(0, colon);
        const stored = this.users?.get(user);
        if (stored === undefined || !verifyPassword(stored, decoded.slice(colon + 1)))
          return undefined;
        this.verified.set(auth, user);
        return { user };
      }
    }
  }

  /** The anti-forgery token of a person (the page reads it from /api/session). */
  csrfToken(identity: Identity): string {
    return createHmac("sha256", this.secret).update(identity.user).digest("base64url");
  }

  /**
   * Why a state-changing request is refused as cross-site, or undefined when it comes from the
   * dashboard's own page: its Origin (when sent) is this host, the browser did not mark it
   * cross-site, and it carries the person's token.
   */
  crossSite(req: IncomingMessage, identity: Identity): string | undefined {
    const host = req.headers.host;
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${host}` && origin !== `https://${host}`)
      return `origin ${origin} is not this dashboard`;
    const site = req.headers["sec-fetch-site"];
    if (site !== undefined && site !== "same-origin") return `request is ${site}`;
    const token = req.headers[CSRF_HEADER];
    const want = Buffer.from(this.csrfToken(identity));
    const got = Buffer.from(typeof token === "string" ? token : "");
    if (got.length !== want.length || !timingSafeEqual(got, want)) return "missing or wrong token";
    return undefined;
  }
}

/**
 * Local mode answers only to its own address (a page of another site that makes the browser
 * resolve its name to 127.0.0.1 sends that name as Host, and is refused).
 */
export function hostAllowed(
  host: string | undefined,
  listenPort: number,
  shared: boolean,
): boolean {
  if (shared) return true;
  if (host === undefined) return false;
  const allowed = ["127.0.0.1", "localhost", "[::1]"].map((h) => `${h}:${listenPort}`);
  return allowed.includes(host.toLowerCase());
}
