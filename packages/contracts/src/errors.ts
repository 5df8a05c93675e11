/**
 * The error catalogue: every code bluegreen emits, `BG_ERR_<AREA>_<WHAT>`, with a message
 * template and whether a retry can help. `docs/errors.md` lists exactly these codes (tested).
 */
export const ERROR_CATALOGUE = {
  // configuration
  BG_ERR_CONFIG_INVALID: {
    message: "configuration is invalid: {problems}",
    retryable: false,
    fix: "Correct every listed path in the file and apply it again.",
  },
  BG_ERR_CONFIG_UNKNOWN_FIELD: {
    message: "configuration has fields that do not exist: {problems}",
    retryable: false,
    fix: "Correct the name of each listed field (the closest known field is suggested) or remove it; docs/schemas/ lists every field. An agent older than the file's fields refuses them too: upgrade it first.",
  },
  BG_ERR_CONFIG_YAML: {
    message: "{source}:{line}:{column}: configuration is not valid YAML: {reason}{excerpt}",
    retryable: false,
    fix: "Fix the YAML syntax at the line and column shown (the caret marks the spot).",
  },
  BG_ERR_CONFIG_UNKNOWN_SERVICE: {
    message: "no service definition for '{service}'",
    retryable: false,
    fix: "Apply the service definition with `bluegreen apply -f` or check the service name.",
  },
  // names, subjects and versions
  BG_ERR_SERVICE_NAME_INVALID: {
    message: "service name '{service}' is invalid: it must match ^[a-z][a-z0-9-]{0,62}$",
    retryable: false,
    fix: "Use lowercase letters, digits and '-', starting with a letter, at most 63 characters.",
  },
  BG_ERR_SUBJECT_INVALID: {
    message: "subject '{subject}' is not a bluegreen subject: {reason}",
    retryable: false,
    fix: "Publish to bluegreen.<service>.<family>.<event>.",
  },
  BG_ERR_VERSION_UNSAFE: {
    message: "version '{version}' is refused: {reason}",
    retryable: false,
    fix: "Use a tag or ref of letters, digits and . _ + - / (at most 128 characters, no '..', not starting with '-').",
  },
  // events on the wire
  BG_ERR_EVENT_MALFORMED_JSON: {
    message: "message is not JSON: {reason}",
    retryable: false,
    fix: "Publish a CloudEvents 1.0 structured JSON document (see docs/events.md).",
  },
  BG_ERR_EVENT_TOO_LARGE: {
    message: "message is {size} bytes, over the {limit}-byte limit",
    retryable: false,
    fix: "Keep events small; output tails and excerpts are truncated by the producers.",
  },
  BG_ERR_EVENT_SPECVERSION: {
    message: "specversion {specversion} is not supported: only CloudEvents 1.0",
    retryable: false,
    fix: 'Set "specversion": "1.0".',
  },
  BG_ERR_EVENT_UNKNOWN_TYPE: {
    message: "event type '{type}' is unknown",
    retryable: false,
    fix: "Use one of the event types in docs/events.md.",
  },
  BG_ERR_EVENT_UNKNOWN_FIELD: {
    message: "event {type} has fields that do not exist: {problems}",
    retryable: false,
    fix: "Correct the name of each listed field (the closest known field is suggested) or remove it. A producer of a newer version marks its events with `dataschema` so that older agents ignore its added fields (docs/events.md, Versions and compatibility).",
  },
  BG_ERR_EVENT_VERSION_UNSUPPORTED: {
    message: "event {type} follows contract version {version}; this agent understands {supported}",
    retryable: false,
    fix: "A new major version changes the contract: upgrade every agent and the CLI to the same major version (docs/events.md, Versions and compatibility).",
  },
  BG_ERR_EVENT_INVALID: {
    message: "event {type} is invalid: {problems}",
    retryable: false,
    fix: "Correct the listed fields; docs/schemas/ has the JSON Schema of every event.",
  },
  BG_ERR_EVENT_SUBJECT_MISMATCH: {
    message: "event {type} for '{service}' arrived on subject '{subject}'",
    retryable: false,
    fix: "Publish each event on the subject built from its own service and type.",
  },
  BG_ERR_EVENT_UNEXPECTED_TYPE: {
    message: "event type '{type}' is not handled on '{subject}'",
    retryable: false,
    fix: "Publish each event on its own subject; see docs/events.md for who consumes what.",
  },
  BG_ERR_KV_INVALID: {
    message: "value of key '{key}' in bucket '{bucket}' is not valid: {problems}",
    retryable: false,
    fix: "The stored state was written by an incompatible version or by hand; inspect it with `nats kv get` and remove or repair it.",
  },
  BG_ERR_AGENT_HANDLER_FAILED: {
    message: "{agent} gave up on {type} after {deliveries} deliveries: {reason}",
    retryable: false,
    fix: "Read the agent's log lines for the event id; the cause is usually a dependency that stayed down.",
  },
  // NATS and state
  BG_ERR_NATS_CONNECT: {
    message: "cannot connect to NATS at {servers}: {reason}",
    retryable: true,
    fix: "Check that NATS runs and the servers, credentials and TLS settings: for the CLI `--server` or $NATS_URL (with $NATS_USER/$NATS_PASSWORD, $NATS_TOKEN or $NATS_CREDS), for an agent the `nats` section of its config.",
  },
  BG_ERR_NATS_PUBLISH: {
    message: "publish to '{subject}' was not acknowledged: {reason}",
    retryable: true,
    fix: "Check that the BLUEGREEN stream exists and the user may publish to the subject.",
  },
  BG_ERR_NATS_NOT_SET_UP: {
    message: "{what} {problem}, and this agent's NATS user may not {action} it: {reason}",
    retryable: true,
    fix: "Start the coordinator first: it creates the stream and the buckets (so does `bluegreen apply` with the operator's user); systemd restarts this agent until then. Keep `nats.stream` and `nats.kv_replicas` in every agent's config as in the coordinator's, or leave them out.",
  },
  BG_ERR_KV_CONFLICT: {
    message: "key '{key}' in bucket '{bucket}' changed concurrently (expected revision {expected})",
    retryable: true,
    fix: "Read the key again and retry the change on the new revision.",
  },
  BG_ERR_LIFECYCLE_STATE: {
    message: "{component} cannot {action} while {state}",
    retryable: false,
    fix: "This is a bug in the caller: call it in the state the message names.",
  },
  // deployments (coordinator pre-flight and outcome)
  BG_ERR_DEPLOY_BUSY: {
    message: "service '{service}' is busy with deployment {deploymentId} ({phase})",
    retryable: true,
    fix: "Wait for the running deployment to end (`bluegreen status`), abort it, or deploy with --queue.",
  },
  BG_ERR_DEPLOY_ALREADY_ACTIVE: {
    message: "version {version} of '{service}' is already active on {color}",
    retryable: false,
    fix: "Nothing to do; deploy a different version.",
  },
  BG_ERR_DEPLOY_AGENT_MISSING: {
    message: "no recent heartbeat from the {role} for '{service}'{detail}",
    retryable: true,
    fix: "Start the agent (`bluegreen agents` lists who is alive) and request the deploy again.",
  },
  BG_ERR_DEPLOY_TIMEOUT: {
    message: "deployment {deploymentId} passed its {phase} deadline of {timeoutMs} ms",
    retryable: true,
    fix: "Check the agent responsible for that phase; raise the timeout in the definition if the step is legitimately slow.",
  },
  BG_ERR_DEPLOY_ABORTED: {
    message: "deployment {deploymentId} was aborted by {by}",
    retryable: false,
    fix: "Nothing to fix; request a new deploy when ready.",
  },
  BG_ERR_DEPLOY_FROZEN: {
    message: "service '{service}' is frozen by {by} until {until}: {reason}",
    retryable: true,
    fix: "Wait for the freeze to end or lift it (`bluegreen unfreeze`); a rollback (`bluegreen rollback --to`) is still allowed.",
  },
  BG_ERR_DEPLOY_NOT_FOUND: {
    message: "no deployment '{deploymentId}' for '{service}'",
    retryable: false,
    fix: "Check the id with `bluegreen status` or `bluegreen history`.",
  },
  BG_ERR_DEPLOY_IN_PROGRESS: {
    message:
      "deployment {deploymentId} of '{service}' is already running ({phase}); this request changes nothing",
    retryable: false,
    fix: "Nothing to fix: the deployment with this id runs once. Wait for its closing event (`bluegreen deploy --wait` with the same --id follows it).",
  },
  BG_ERR_DEPLOY_WRONG_PHASE: {
    message: "deployment {deploymentId} is {phase}: cannot {action}",
    retryable: false,
    fix: "Check the deployment's phase with `bluegreen status`.",
  },
  BG_ERR_DEPLOY_NO_PREVIOUS: {
    message: "deployment {deploymentId} cannot roll back: no colour served before it",
    retryable: false,
    fix: "Fix forward with a new deploy, or point traffic by hand with `bluegreen switch <service> <color>` at a colour that is ready.",
  },
  // node agent: steps, readiness, smoke checks, SSH
  BG_ERR_AGENT_NOT_SERVING: {
    message:
      "{type} about {node} ({color}) of '{service}' came from {source}, which does not serve that node: {reason}; the event was ignored",
    retryable: false,
    fix: "Only the node agent serving a node may report on it. Check the agent's `serves` and its NATS user (`bluegreen nats-config`); an event from elsewhere is forged or misrouted.",
  },
  BG_ERR_DEPLOY_UNKNOWN_NODE: {
    message: "{node} is not a {color} node of '{service}' in its definition; nothing was run",
    retryable: false,
    fix: "Deploy only the nodes the service definition lists; apply the definition first when a node is new.",
  },
  BG_ERR_STEP_FAILED: {
    message: "step {step} ({command}) exited with code {exitCode}",
    retryable: false,
    fix: "Read the output tail in the event; fix the step or the release.",
  },
  BG_ERR_STEP_TIMEOUT: {
    message: "step {step} ({command}) did not finish within {timeoutMs} ms and was killed",
    retryable: true,
    fix: "Find out why the step hangs; raise deploy.stepTimeout if it is legitimately slow.",
  },
  BG_ERR_STEP_SPAWN: {
    message: "step {step} could not start '{command}': {reason}",
    retryable: false,
    fix: "Check that the program exists on the node and the workdir is right.",
  },
  BG_ERR_READINESS_TIMEOUT: {
    message: "{node} was not ready within {timeoutMs} ms (last answer: {lastAnswer})",
    retryable: true,
    fix: "Check the application's logs on the node; raise readiness.timeout if it starts slowly.",
  },
  BG_ERR_SMOKE_FAILED: {
    message: "smoke checks failed on {node}: {failed}",
    retryable: false,
    fix: "Read each failed check in the event; traffic stays where it was.",
  },
  BG_ERR_SSH_HOST_KEY_MISMATCH: {
    message: "host key of {host}:{port} does not match the known-hosts entry",
    retryable: false,
    fix: "Verify the node's host key out of band and update the known-hosts file; never disable the check.",
  },
  BG_ERR_SSH_HOST_KEY_UNKNOWN: {
    message: "no known-hosts entry for {host}:{port}",
    retryable: false,
    fix: "Add the node's host key to the known-hosts file named in the agent config.",
  },
  BG_ERR_SSH_UNREACHABLE: {
    message: "cannot reach {host}:{port} over SSH: {reason}",
    retryable: true,
    fix: "Check that sshd runs on the node and the network path is open.",
  },
  BG_ERR_AGENT_INTERNAL: {
    message: "{component} failed unexpectedly: {reason}",
    retryable: false,
    fix: "This is a bug in the agent: report it with the agent's log lines; request the deploy again.",
  },
  BG_ERR_SSH_AUTH: {
    message: "SSH authentication to {user}@{host}:{port} failed",
    retryable: false,
    fix: "Check the key file (and its passphrase) or the SSH agent named in the agent config.",
  },
  // switcher
  BG_ERR_SWITCH_EXPIRED: {
    message:
      "switch of '{service}' to {to} arrived after its deadline {deadline}: the deployment no longer waits for it, nothing was touched",
    retryable: false,
    fix: "The switcher was down or cut off from NATS longer than the coordinator's switching deadline; the deployment has ended (see its deploy.failed). Check what nginx serves, and deploy again.",
  },
  BG_ERR_SWITCH_STALE_REVISION: {
    message:
      "switch of '{service}' to {to} expected active-colour revision {expected}, found {actual}",
    retryable: false,
    fix: "Another switch happened first; read the active colour again before switching.",
  },
  BG_ERR_SWITCH_TARGET_NOT_READY: {
    message: "refusing to switch '{service}' to {to}: {node} is not ready ({reason})",
    retryable: true,
    fix: "Bring the target colour up (and healthy) before switching traffic to it.",
  },
  BG_ERR_SWITCH_WRITE_FAILED: {
    message: "cannot write the upstream file {file}: {reason}",
    retryable: true,
    fix: "Check the directory exists and the switcher may write to it.",
  },
  BG_ERR_SWITCH_NGINX_TEST_FAILED: {
    message: "nginx rejected the configuration; previous upstream file restored: {output}",
    retryable: false,
    fix: "Fix the site configuration that includes the upstream file (nginx -t shows the line).",
  },
  BG_ERR_SWITCH_RELOAD_FAILED: {
    message: "nginx reload failed; previous upstream file restored: {output}",
    retryable: true,
    fix: "Check that nginx runs and the reload command in the switcher config is right.",
  },
  BG_ERR_SWITCH_VERIFY_FAILED: {
    message:
      "traffic through nginx did not reach {to} within {timeoutMs} ms; previous upstream restored",
    retryable: true,
    fix: "Check the verify URL in the definition and that the target answers through nginx.",
  },
  BG_ERR_SWITCH_RECORD_FAILED: {
    message: "nginx serves {to} but the active colour could not be recorded: {reason}",
    retryable: true,
    fix: "Check NATS; the switcher reports and repairs the drift at its next start.",
  },
  BG_ERR_SWITCH_UNKNOWN_SERVICE: {
    message: "this switcher does not serve '{service}'",
    retryable: false,
    fix: "Add the service to the switcher config's services list.",
  },
  // monitor
  BG_ERR_MONITOR_SOURCE_UNREACHABLE: {
    message: "metric source {source} did not answer: {reason}",
    retryable: true,
    fix: "Check that Prometheus (or the node's /metrics) is reachable from the monitor host.",
  },
  BG_ERR_MONITOR_QUERY_FAILED: {
    message: "query for SLO {slo} failed: {reason}",
    retryable: false,
    fix: "Check the SLO's query in the definition (try it in Prometheus' UI).",
  },
  BG_ERR_MONITOR_INCONCLUSIVE_LIMIT: {
    message: "SLO {slo} was inconclusive {count} times (limit {limit})",
    retryable: false,
    fix: "Make the metric source reachable and the query return data; see docs/operations.md.",
  },
  // audit checkpoints
  BG_ERR_AUDIT_KEY_EXPOSED: {
    message: "audit signing key {file} is readable by its group or others (mode {mode})",
    retryable: false,
    fix: "Only the coordinator's user may read the private key: `chmod 600` the file (and `chown` it to that user), then start again.",
  },
  BG_ERR_AUDIT_KEY_INVALID: {
    message: "audit key {file} cannot be used: {reason}",
    retryable: false,
    fix: "Point the setting at a PEM ed25519 key written by `bluegreen audit keygen` (the private key for the coordinator's audit.signing_key_file, the public key for `audit verify --public-key`).",
  },
  BG_ERR_AUDIT_EXPORT_INVALID: {
    message: "audit export {file} is not readable: line {line}: {reason}",
    retryable: false,
    fix: "Give a file written by `bluegreen audit export` (JSON lines: a header, then one stream message per line).",
  },
  // CLI
  BG_ERR_CLI_USAGE: {
    message: "{reason}",
    retryable: false,
    fix: "Run the command with --help for its usage and examples.",
  },
  BG_ERR_CLI_TIMEOUT: {
    message: "gave up waiting after {timeoutMs} ms; deployment {deploymentId} is {phase}",
    retryable: true,
    fix: "Follow it with `bluegreen tail --follow` or `bluegreen status`.",
  },
} as const satisfies Record<string, ErrorSpec>;

export interface ErrorSpec {
  /** Template; `{name}` is replaced by the matching field of the error's params. */
  readonly message: string;
  /** Whether repeating the same action later can succeed. */
  readonly retryable: boolean;
  /** What the user should do about it. */
  readonly fix: string;
}

export type ErrorCode = keyof typeof ERROR_CATALOGUE;
export const ERROR_CODES = Object.keys(ERROR_CATALOGUE) as ErrorCode[];

export type ErrorParams = Record<string, string | number | boolean | null | undefined>;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERROR_CATALOGUE, value);
}

export function formatErrorMessage(code: ErrorCode, params: ErrorParams = {}): string {
  return ERROR_CATALOGUE[code].message.replace(/\{(\w+)\}/g, (whole, key: string) => {
    const value = params[key];
    return value === undefined ? whole : String(value);
  });
}

/** The one error class of bluegreen: a code from the catalogue, its params, and a cause. */
export class BgError extends Error {
  override readonly name = "BgError";
  readonly code: ErrorCode;
  readonly params: ErrorParams;
  readonly retryable: boolean;
  /** Structured detail that travels with the error (e.g. every config problem). */
  readonly details: unknown;

  constructor(
    code: ErrorCode,
    params: ErrorParams = {},
    options: { cause?: unknown; details?: unknown; message?: string } = {},
  ) {
    super(options.message ?? formatErrorMessage(code, params), { cause: options.cause });
    this.code = code;
    this.params = params;
    this.retryable = ERROR_CATALOGUE[code].retryable;
    this.details = options.details;
  }

  /** The shape a coded error takes inside an event (`deploy.failed`, `agent.rejected`, …). */
  toJSON(): { code: ErrorCode; message: string; retryable: boolean } {
    return { code: this.code, message: this.message, retryable: this.retryable };
  }
}

export function isBgError(value: unknown): value is BgError {
  return value instanceof BgError;
}
