// The audit keys on disk: the coordinator's private signing key (refused when others can read
// it), the auditors' public key, and a new pair for `bluegreen audit keygen`.

import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from "node:crypto";
import { existsSync, readFileSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BgError } from "@bluegreen/contracts";
import { keyIdOf } from "./chain.ts";

/** The names `bluegreen audit keygen` writes in its directory. */
export const PRIVATE_KEY_FILE = "audit-signing.key";
export const PUBLIC_KEY_FILE = "audit-signing.pub";

function invalid(file: string, reason: string, cause?: unknown): BgError {
  return new BgError("BG_ERR_AUDIT_KEY_INVALID", { file, reason }, { cause });
}

function ed25519(key: KeyObject, file: string): KeyObject {
  if (key.asymmetricKeyType !== "ed25519")
    throw invalid(file, `an ${key.asymmetricKeyType ?? "unknown"} key, not ed25519`);
  return key;
}

/**
 * The coordinator's signing key. Refused (BG_ERR_AUDIT_KEY_EXPOSED) when its group or others
 * may read or write it: a key others can read signs nothing anybody should trust.
 */
export function loadSigningKey(file: string): KeyObject {
  let mode: number;
  let pem: string;
  try {
    mode = statSync(file).mode;
    pem = readFileSync(file, "utf8");
  } catch (err) {
    throw invalid(file, err instanceof Error ? err.message : String(err), err);
  }
  if ((mode & 0o077) !== 0)
    throw new BgError("BG_ERR_AUDIT_KEY_EXPOSED", {
      file,
      mode: (mode & 0o777).toString(8).padStart(4, "0"),
    });
  try {
    return ed25519(createPrivateKey(pem), file);
  } catch (err) {
    if (err instanceof BgError) throw err;
    throw invalid(file, "not a PEM private key", err);
  }
}

/** The public key an auditor verifies with (a private key file gives its public half). */
export function loadPublicKey(file: string): KeyObject {
  let pem: string;
  try {
    pem = readFileSync(file, "utf8");
  } catch (err) {
    throw invalid(file, err instanceof Error ? err.message : String(err), err);
  }
  try {
    return ed25519(createPublicKey(pem), file);
  } catch (err) {
    if (err instanceof BgError) throw err;
    throw invalid(file, "not a PEM public key", err);
  }
}

export interface WrittenKeys {
  readonly privateKeyFile: string;
  readonly publicKeyFile: string;
  readonly keyId: string;
}

/**
 * A new ed25519 pair in `dir`: the private key 0600, the public key 0644. Never overwrites, and
 * never leaves half a pair: when either file exists nothing is written (EEXIST), and when the
 * public key cannot be written the private key just written is removed.
 */
export function writeKeyPair(dir: string): WrittenKeys {
  const privateKeyFile = join(dir, PRIVATE_KEY_FILE);
  const publicKeyFile = join(dir, PUBLIC_KEY_FILE);
  for (const file of [privateKeyFile, publicKeyFile])
    if (existsSync(file))
      throw Object.assign(new Error(`EEXIST: ${file} already exists`), {
        code: "EEXIST",
        path: file,
      });
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  writeFileSync(privateKeyFile, privateKey.export({ type: "pkcs8", format: "pem" }), {
    mode: 0o600,
    flag: "wx",
  });
  try {
    writeFileSync(publicKeyFile, publicKey.export({ type: "spki", format: "pem" }), {
      mode: 0o644,
      flag: "wx",
    });
  } catch (err) {
    unlinkSync(privateKeyFile);
    throw err;
  }
  return { privateKeyFile, publicKeyFile, keyId: keyIdOf(publicKey) };
}
