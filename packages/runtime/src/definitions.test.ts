import { BgError } from "@bluegreen/contracts";
import { describe, expect, it } from "vitest";
import { compileStored, sha256Hex } from "./definitions.ts";

const definitionYaml = (service: string, port = 8000) => `service: ${service}
nodes:
  blue:  { host: 10.0.0.10, port: ${port} }
  green: { host: 10.0.0.11, port: ${port} }
deploy:
  workdir: /opt/${service}
  steps:
    - [git, checkout, "\${version}"]
traffic:
  upstream: ${service.replace(/-/g, "_")}_active
  file: /etc/nginx/bluegreen/${service}.conf
  verify: { url: http://127.0.0.1/health }
monitor:
  source: { prometheus: http://localhost:9090 }
  slos:
    - name: error-ratio
      query: sum(rate(http_requests_total[1m]))
      max: 0.05
`;

describe("compileStored", () => {
  it("compiles the stored YAML and fingerprints it", () => {
    const text = definitionYaml("emily");
    const entry = compileStored("emily", text, 7);
    expect(entry.service).toBe("emily");
    expect(entry.revision).toBe(7);
    expect(entry.sha256).toBe(sha256Hex(text));
    expect(entry.definition.nodes.green).toEqual([{ host: "10.0.0.11", port: 8000 }]);
  });

  it("reports errors with the stored revision and the YAML line", () => {
    const text = definitionYaml("emily").replace("port: 8000 }\n  green", 'port: "x" }\n  green');
    let error: unknown;
    try {
      compileStored("emily", text, 3);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(BgError);
    expect((error as BgError).code).toBe("BG_ERR_CONFIG_INVALID");
    expect((error as BgError).message).toContain("bluegreen_services/emily@3");
    expect((error as BgError).message).toMatch(/nodes\.blue\.port: .*\(line 3\)/);
  });

  it("refuses a definition stored under another service's key", () => {
    expect(() => compileStored("other", definitionYaml("emily"), 1)).toThrow(
      /stored under key 'other'/,
    );
  });
});
