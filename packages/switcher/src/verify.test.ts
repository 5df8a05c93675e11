import { describe, expect, it } from "vitest";
import { fixtureDefinition } from "./test-fixture.ts";
import { answerShows, colorOfAnswer, lastUpstreamAddr } from "./verify.ts";

const def = fixtureDefinition();
const answer = (headers: Record<string, string>, body = "") => ({ status: 200, headers, body });

describe("colorOfAnswer", () => {
  it("reads the upstream address nginx used first", () => {
    expect(
      colorOfAnswer(answer({ "x-upstream-addr": "10.0.0.12:8000", "x-app-color": "green" }), def),
    ).toBe("blue");
  });

  it("takes the last server nginx tried", () => {
    expect(lastUpstreamAddr("10.0.0.10:8000, 10.0.0.11:8000")).toBe("10.0.0.11:8000");
    expect(lastUpstreamAddr("10.0.0.10:8000 : 10.0.0.12:8000")).toBe("10.0.0.12:8000");
    expect(lastUpstreamAddr("[::1]:8000")).toBe("[::1]:8000");
    expect(
      colorOfAnswer(answer({ "x-upstream-addr": "10.0.0.10:8000, 10.0.0.11:8000" }), def),
    ).toBe("green");
  });

  it("falls back to the app's colour header, then its JSON body", () => {
    expect(
      colorOfAnswer(answer({ "x-upstream-addr": "9.9.9.9:1", "x-app-color": "green" }), def),
    ).toBe("green");
    expect(colorOfAnswer(answer({}, '{"status":"healthy","color":"blue"}'), def)).toBe("blue");
  });

  it("says null when nothing names a colour", () => {
    expect(colorOfAnswer(answer({}, "<html>502 Bad Gateway</html>"), def)).toBeNull();
    expect(colorOfAnswer(answer({ "x-app-color": "purple" }, '{"color":"red"}'), def)).toBeNull();
    expect(colorOfAnswer(answer({}, "null"), def)).toBeNull();
  });
});

describe("answerShows", () => {
  const green = answer({ "x-upstream-addr": "10.0.0.11:8000", "x-bluegreen-generation": "g2" });

  it("needs a 2xx from the target colour", () => {
    expect(answerShows(green, def, "green", "g2").ok).toBe(true);
    expect(answerShows(green, def, "blue", "g2").ok).toBe(false);
    expect(answerShows({ ...green, status: 502 }, def, "green", "g2").ok).toBe(false);
  });

  it("refuses an answer from a worker that loaded an older file, even from the right colour", () => {
    expect(answerShows(green, def, "green", "g3")).toEqual({
      ok: false,
      color: "green",
      stale: true,
    });
  });

  it("relies on the colour alone when the site adds no generation header, or none is known", () => {
    expect(answerShows(answer({ "x-app-color": "green" }), def, "green", "g3").ok).toBe(true);
    expect(answerShows(green, def, "green", undefined).ok).toBe(true);
  });
});
