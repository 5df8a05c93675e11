/**
 * Who asked for a deploy (`requestedBy`, at most 128 characters): on CI, the person and the
 * pipeline from the CI's own variables; elsewhere, `user@host`. Pure: the environment and the
 * fallback are given.
 *
 * - GitHub Actions (`GITHUB_ACTIONS=true`): `<GITHUB_ACTOR> github:<GITHUB_REPOSITORY> <run URL>`,
 *   the run URL `<GITHUB_SERVER_URL>/<GITHUB_REPOSITORY>/actions/runs/<GITHUB_RUN_ID>`;
 * - GitLab CI (`GITLAB_CI=true`): `<GITLAB_USER_LOGIN> gitlab:<CI_PROJECT_PATH> <CI_JOB_URL>`.
 *
 * A part the CI does not set is left out; the URL goes first when the whole is too long; with
 * neither a person nor a project, the fallback.
 */
export const REQUESTED_BY_MAX = 128;

export function requestedByFrom(
  env: Readonly<Record<string, string | undefined>>,
  fallback: () => string,
): string {
  const set = (name: string) => {
    const value = env[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  };
  let parts: (string | undefined)[] | undefined;
  if (set("GITHUB_ACTIONS") === "true") {
    const [server, repo, run] = [
      set("GITHUB_SERVER_URL"),
      set("GITHUB_REPOSITORY"),
      set("GITHUB_RUN_ID"),
    ];
    const url =
      server !== undefined && repo !== undefined && run !== undefined
        ? `${server.replace(/\/+$/, "")}/${repo}/actions/runs/${run}`
        : undefined;
    parts = [set("GITHUB_ACTOR"), repo === undefined ? undefined : `github:${repo}`, url];
  } else if (set("GITLAB_CI") === "true") {
    const project = set("CI_PROJECT_PATH");
    parts = [
      set("GITLAB_USER_LOGIN"),
      project === undefined ? undefined : `gitlab:${project}`,
      set("CI_JOB_URL"),
    ];
  }
  if (parts === undefined || (parts[0] === undefined && parts[1] === undefined))
    return fallback().slice(0, REQUESTED_BY_MAX);
  const whole = parts.filter((p) => p !== undefined).join(" ");
  if (whole.length <= REQUESTED_BY_MAX) return whole;
  const short = parts
    .slice(0, 2)
    .filter((p) => p !== undefined)
    .join(" ");
  return short.slice(0, REQUESTED_BY_MAX);
}
