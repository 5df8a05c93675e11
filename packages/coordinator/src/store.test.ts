import type { Decision, Held } from "@bluegreen/runtime";
import type { KV } from "nats";
import { describe, expect, it } from "vitest";
import { stateIn } from "./decide/fixtures.ts";
import type { Command, DeploymentState } from "./decide.ts";
import { DeploymentStore, shouldStore } from "./store.ts";

const state = stateIn("requested");
const preflight: Command = { kind: "preflight" };
const release: Command = { kind: "releaseLock" };
const decision = (changed: boolean, commands: Command[]): Decision<DeploymentState, Command> => ({
  state,
  commands,
  changed,
  note: "",
});
const held = (revision: number | undefined): Held<DeploymentState, Command> => ({
  state,
  pending: [],
  revision,
  pendingDone: true,
});

describe("shouldStore: when a decision is written before its commands run", () => {
  const cases: [string, Held<DeploymentState, Command> | undefined, boolean, Command[], boolean][] =
    [
      ["a new request waits for its pre-flight answer", undefined, true, [preflight], false],
      ["a new record with other commands is stored", undefined, true, [release], true],
      ["a change of a stored record is stored", held(4), true, [preflight], true],
      ["a request that pre-flight left queued is stored then", held(undefined), false, [], true],
      ["no change of a stored record: no write", held(4), false, [], false],
      ["no record, no change: no write", undefined, false, [], false],
    ];
  it.each(cases)("%s", (_name, h, changed, commands, expected) => {
    expect(shouldStore(h, decision(changed, commands))).toBe(expected);
  });
});

describe("shouldStore: a deploy for a service nobody defined leaves no record", () => {
  const rejected = stateIn("rejected");
  const unknown: DeploymentState = {
    ...rejected,
    outcome: {
      at: rejected.updatedAt,
      event: "deploy.rejected",
      code: "BG_ERR_CONFIG_UNKNOWN_SERVICE",
    },
  };
  const answer = (s: DeploymentState): Decision<DeploymentState, Command> => ({
    state: s,
    commands: [release],
    changed: true,
    note: "",
  });
  it("is answered but not stored (new, or held but never stored)", () => {
    expect(shouldStore(undefined, answer(unknown))).toBe(false);
    expect(shouldStore(held(undefined), answer(unknown))).toBe(false);
    expect(shouldStore(held(undefined), { ...answer(unknown), changed: false })).toBe(false);
  });
  it("other rejections are stored (busy, agent missing: status and history list them)", () => {
    const busy = { ...unknown, outcome: { ...unknown.outcome, code: "BG_ERR_DEPLOY_BUSY" } };
    expect(shouldStore(undefined, answer(busy as DeploymentState))).toBe(true);
  });
  it("a renewed request is not stored before its pre-flight answer", () => {
    expect(shouldStore(held(undefined), decision(true, [preflight]))).toBe(false);
  });
});

describe("DeploymentStore", () => {
  /** One key, as KV hands it back. */
  const kvWith = (json: unknown) =>
    ({
      get: async (key: string) => ({
        key,
        operation: "PUT",
        revision: 9,
        value: new TextEncoder().encode(JSON.stringify(json)),
      }),
    }) as unknown as KV;

  it("reads a record's outbox as its pending commands", async () => {
    const outbox: Command[] = [release];
    const store = new DeploymentStore(kvWith({ ...state, outbox }));
    const loaded = await store.load(`${state.service}.${state.deploymentId}`);
    expect(loaded).toEqual({ state, pending: outbox, revision: 9 });
  });

  it("reads a record without an outbox as nothing pending", async () => {
    const store = new DeploymentStore(kvWith(state));
    expect(await store.get(state.service, state.deploymentId)).toEqual({
      state,
      pending: [],
      revision: 9,
    });
  });
});
