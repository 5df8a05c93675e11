// What the package's tests need from inside.
export { parseActionRequest } from "./actions.ts";
export { Authenticator, hostAllowed, parsePasswordFile, verifyPassword } from "./auth.ts";
export { parseScope, wantsEvent } from "./scopes.ts";
export { addRound, fleetRow, markBreach, summarizeDeployment } from "./views.ts";
export { timelineRows } from "./web/timeline.ts";
