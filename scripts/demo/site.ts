// The demo's nginx site: the guide's proxy settings (as in examples/emily/nginx-site.conf),
// for the local service, including the upstream file the switcher owns.

import { generationVariable } from "@bluegreen/switcher";

export interface DemoSiteOptions {
  readonly host: string;
  readonly port: number;
  readonly upstreamFile: string;
  /** The definition's `traffic.upstream`. */
  readonly upstream: string;
  /** The switcher's request-log reader (UDP on loopback), for the monitor's nginx source. */
  readonly requestLogPort?: number | undefined;
}

/** The JSON line per request the switcher's reader folds (examples/emily/nginx-site.conf). */
export const REQUEST_LOG_FORMAT = `log_format bluegreen_json escape=json '{"upstream":"$upstream_addr","status":"$status","rt":"$upstream_response_time","msec":"$msec","probe":"$http_x_bluegreen_probe"}';`;

export function demoSiteConfig(opts: DemoSiteOptions): string {
  const requestLog =
    opts.requestLogPort === undefined
      ? ""
      : `    access_log syslog:server=127.0.0.1:${opts.requestLogPort},tag=bluegreen,nohostname bluegreen_json;
`;
  return `include ${JSON.stringify(opts.upstreamFile)};
${
  opts.requestLogPort === undefined
    ? ""
    : `${REQUEST_LOG_FORMAT}
`
}
server {
    listen ${opts.host}:${opts.port};
${requestLog}
    # Which node answered, and which upstream file the answering worker loaded: the
    # switcher's verification reads both (see examples/emily/nginx-site.conf).
    add_header X-Upstream-Addr $upstream_addr always;
    add_header X-Bluegreen-Generation $${generationVariable(opts.upstream)} always;

    location / {
        proxy_pass http://${opts.upstream};
        proxy_set_header Host $host;
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_connect_timeout 5s;
        proxy_read_timeout 30s;
    }
}
`;
}
