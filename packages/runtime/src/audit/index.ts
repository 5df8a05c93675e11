// Signed audit checkpoints: the pure chain and verification (chain.ts, verify.ts, export.ts)
// and their I/O shell (keys.ts, trail.ts). docs/audit.md.
export {
  buildCheckpoint,
  CHECKPOINT_SUBJECT,
  type ChainHead,
  type CheckpointData,
  chainOver,
  checkpointHash,
  contentDigest,
  GENESIS,
  genesisHead,
  headAfter,
  keyIdOf,
  type StoredMessage,
  signatureValid,
} from "./chain.ts";
export {
  type ExportHeader,
  exportHeader,
  exportLine,
  type ParsedExport,
  parseExport,
} from "./export.ts";
export {
  loadPublicKey,
  loadSigningKey,
  PRIVATE_KEY_FILE,
  PUBLIC_KEY_FILE,
  type WrittenKeys,
  writeKeyPair,
} from "./keys.ts";
export { lastCheckpointMessage, readTrail, type TrailRead } from "./trail.ts";
export {
  type AuditProblem,
  type AuditProblemKind,
  type AuditReport,
  formatProblem,
  type VerifyOptions,
  verifyTrail,
} from "./verify.ts";
