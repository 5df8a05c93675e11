import { createEvent } from "@bluegreen/contracts";
import { describe, expect, it } from "vitest";
import { REQUESTED_BY_MAX, requestedByFrom } from "./requested-by.ts";

const github = {
  GITHUB_ACTIONS: "true",
  GITHUB_ACTOR: "alice",
  GITHUB_REPOSITORY: "acme/emily",
  GITHUB_SERVER_URL: "https://github.com",
  GITHUB_RUN_ID: "8812345",
};
const gitlab = {
  GITLAB_CI: "true",
  GITLAB_USER_LOGIN: "bob",
  CI_PROJECT_PATH: "ops/emily",
  CI_JOB_URL: "https://gitlab.example.com/ops/emily/-/jobs/991",
};
const long = "x".repeat(120);

describe("requestedBy: from the CI's own variables, else user@host", () => {
  const cases: [string, Record<string, string>, string][] = [
    [
      "GitHub Actions: actor, repository, run URL",
      github,
      "alice github:acme/emily https://github.com/acme/emily/actions/runs/8812345",
    ],
    [
      "GitHub Enterprise: its own server URL (a trailing slash trimmed)",
      { ...github, GITHUB_SERVER_URL: "https://ghe.acme.io/" },
      "alice github:acme/emily https://ghe.acme.io/acme/emily/actions/runs/8812345",
    ],
    [
      "GitHub without a run id: no URL",
      { ...github, GITHUB_RUN_ID: "" },
      "alice github:acme/emily",
    ],
    [
      "GitHub without an actor",
      { ...github, GITHUB_ACTOR: "" },
      "github:acme/emily https://github.com/acme/emily/actions/runs/8812345",
    ],
    [
      "GitLab CI: user login, project, job URL",
      gitlab,
      "bob gitlab:ops/emily https://gitlab.example.com/ops/emily/-/jobs/991",
    ],
    ["GitLab without a job URL", { ...gitlab, CI_JOB_URL: "" }, "bob gitlab:ops/emily"],
    [
      "too long: the URL goes first",
      { ...github, GITHUB_REPOSITORY: `acme/${long.slice(0, 80)}` },
      `alice github:acme/${long.slice(0, 80)}`,
    ],
    [
      "still too long: cut at the limit",
      { ...github, GITHUB_ACTOR: long, GITHUB_REPOSITORY: long },
      `${long} github:${long}`.slice(0, REQUESTED_BY_MAX),
    ],
    ["not on CI: user@host", {}, "carol@build-7"],
    ["GITHUB_ACTIONS not 'true': user@host", { ...github, GITHUB_ACTIONS: "" }, "carol@build-7"],
    [
      "CI without person or project: user@host",
      { GITLAB_CI: "true", CI_JOB_URL: "https://x/1" },
      "carol@build-7",
    ],
  ];
  it.each(cases)("%s", (_name, env, expected) => {
    const got = requestedByFrom(env, () => "carol@build-7");
    expect(got).toBe(expected);
    // Within the contract's limits: the request it goes into is valid.
    const request = () =>
      createEvent("deploy.requested", {
        service: "emily",
        source: "test",
        data: { version: "v1.1", requestedBy: got },
      });
    expect(request).not.toThrow();
  });
});
