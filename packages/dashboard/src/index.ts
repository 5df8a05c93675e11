/** @bluegreen/dashboard: the fleet, each deployment's timeline and SLO chart, live in a browser. */
export { ACTIONS, type Action } from "./actions.ts";
export { buildAssets, loadAssets, writeAssets } from "./assets.ts";
export { type AuthConfig, CSRF_HEADER, hashPasswordLine } from "./auth.ts";
export { type Dashboard, type DashboardOptions, startDashboard } from "./server.ts";
