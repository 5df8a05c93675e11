// What counts as a version string. The same rule guards the CLI flag, the VERSION file and
// `ctl set-version`, so a version can always be used as a file name or a git ref safely.

const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;

/** Returns a reason when `version` is not acceptable, `undefined` when it is. */
export function versionProblem(version: string): string | undefined {
  if (!VERSION_PATTERN.test(version)) {
    return `invalid version ${JSON.stringify(version)}: expected 1-128 characters of [A-Za-z0-9._+-], starting with a letter or digit`;
  }
  if (version.includes("..")) {
    return `invalid version ${JSON.stringify(version)}: must not contain ".."`;
  }
  return undefined;
}

export function isValidVersion(version: string): boolean {
  return versionProblem(version) === undefined;
}
