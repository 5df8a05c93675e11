// The demo's nginx site: the guide's proxy settings (as in examples/emily/nginx-site.conf),
// for the local service, including the upstream file the switcher owns.

import { generationVariable } from "@bluegreen/switcher";

export interface DemoSiteOptions {
  readonly host: string;
  readonly port: number;
  readonly upstreamFile: string;
  /** The definition's `traffic.upstream`. */
  readonly upstream: string;
}

export function demoSiteConfig(opts: DemoSiteOptions): string {
  return `include ${JSON.stringify(opts.upstreamFile)};

server {
    listen ${opts.host}:${opts.port};
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
