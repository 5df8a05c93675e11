import type { HttpCheck } from "@bluegreen/contracts";
import { describeValue, findSubsetMismatch } from "./json-subset.ts";

/** How much of a node's answer is read (readiness, smoke checks, health); the rest is dropped. */
export const MAX_BODY_BYTES = 256 * 1024;

/**
 * What the verdict reads of the runtime's `httpCall` answer: what came back from one HTTP
 * request, or why nothing did ("connection refused", "no answer within N ms", "aborted").
 */
export type HttpAnswer =
  | {
      readonly kind: "response";
      readonly status: number;
      readonly body: string;
      readonly latencyMs: number;
    }
  | {
      readonly kind: "error";
      readonly reason: string;
      readonly timedOut: boolean;
      readonly latencyMs: number;
    };

export interface CheckVerdict {
  readonly ok: boolean;
  readonly status?: number;
  /** Every reason the check failed, joined; absent when it passed. */
  readonly message?: string;
}

const MESSAGE_CHARS = 1024;

function bounded(text: string): string {
  return text.length > MESSAGE_CHARS ? `${text.slice(0, MESSAGE_CHARS - 1)}…` : text;
}

/**
 * The pure half of an HTTP smoke check: the answer against the expectation. Every expectation
 * is checked and every failed one is named, so the event says exactly what went wrong.
 */
export function judgeHttpAnswer(expect: HttpCheck["expect"], answer: HttpAnswer): CheckVerdict {
  if (answer.kind === "error") {
    return { ok: false, message: bounded(answer.reason) };
  }
  const problems: string[] = [];
  if (answer.status !== expect.status) {
    problems.push(`expected status ${expect.status}, got ${answer.status}`);
  }
  if (expect.json !== undefined) {
    let parsed: unknown;
    let isJson = true;
    try {
      parsed = JSON.parse(answer.body);
    } catch {
      isJson = false;
    }
    if (!isJson) {
      problems.push(`expected a JSON body, got ${describeValue(answer.body.slice(0, 60))}`);
    } else {
      const mismatch = findSubsetMismatch(expect.json, parsed);
      if (mismatch !== undefined) {
        problems.push(
          `expected json ${mismatch.path} = ${describeValue(mismatch.expected)}, got ${describeValue(mismatch.actual)}`,
        );
      }
    }
  }
  if (expect.bodyContains !== undefined && !answer.body.includes(expect.bodyContains)) {
    problems.push(`expected the body to contain ${describeValue(expect.bodyContains)}`);
  }
  if (expect.maxLatency !== undefined && answer.latencyMs > expect.maxLatency) {
    problems.push(
      `took ${Math.round(answer.latencyMs)} ms, over the ${expect.maxLatency} ms latency bound`,
    );
  }
  return problems.length === 0
    ? { ok: true, status: answer.status }
    : { ok: false, status: answer.status, message: bounded(problems.join("; ")) };
}

/** A short account of an answer, for readiness' `lastAnswer` and logs. */
export function describeAnswer(answer: HttpAnswer, maxBody = 200): string {
  if (answer.kind === "error") return answer.reason;
  const body = answer.body.replace(/\s+/g, " ").trim();
  const shown = body.length > maxBody ? `${body.slice(0, maxBody - 1)}…` : body;
  return shown === "" ? `HTTP ${answer.status}` : `HTTP ${answer.status}: ${shown}`;
}
