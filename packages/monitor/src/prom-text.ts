/**
 * A small parser for the Prometheus text exposition format (0.0.4), enough to read an app's
 * `/metrics`: `name{label="value",…} value [timestamp]` lines, `#` comments skipped. Pure and
 * total: a line it cannot read is counted, never thrown.
 */

export interface TextSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface ParsedText {
  readonly samples: TextSample[];
  /** Lines that were neither comments, blank, nor readable samples. */
  readonly badLines: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

/** Go's ParseFloat spellings as Prometheus writes them: `NaN`, `+Inf`, `-Inf`, numbers. */
export function parseSampleValue(token: string): number | undefined {
  switch (token) {
    case "NaN":
      return Number.NaN;
    case "+Inf":
    case "Inf":
      return Number.POSITIVE_INFINITY;
    case "-Inf":
      return Number.NEGATIVE_INFINITY;
  }
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(token)) return undefined;
  return Number(token);
}

/** Reads `{a="x",b="y"}` starting at `text[0] === "{"`; returns the labels and the rest. */
function readLabels(text: string): { labels: Record<string, string>; rest: string } | undefined {
  const labels: Record<string, string> = {};
  let i = 1;
  for (;;) {
    while (text[i] === " ") i++;
    if (text[i] === "}") return { labels, rest: text.slice(i + 1) };
    const name = LABEL_NAME.exec(text.slice(i))?.[0];
    if (name === undefined) return undefined;
    i += name.length;
    while (text[i] === " ") i++;
    if (text[i] !== "=") return undefined;
    i++;
    while (text[i] === " ") i++;
    if (text[i] !== '"') return undefined;
    i++;
    let value = "";
    for (;;) {
      const ch = text[i];
      if (ch === undefined) return undefined;
      if (ch === '"') break;
      if (ch === "\\") {
        const next = text[i + 1];
        value += next === "n" ? "\n" : (next ?? "");
        i += 2;
        continue;
      }
      value += ch;
      i++;
    }
    i++;
    labels[name] = value;
    while (text[i] === " ") i++;
    if (text[i] === ",") i++;
    else if (text[i] !== "}") return undefined;
  }
}

function parseLine(line: string): TextSample | undefined {
  const name = NAME.exec(line)?.[0];
  if (name === undefined) return undefined;
  let rest = line.slice(name.length);
  let labels: Record<string, string> = {};
  if (rest.startsWith("{")) {
    const read = readLabels(rest);
    if (read === undefined) return undefined;
    labels = read.labels;
    rest = read.rest;
  }
  const [valueToken, timestamp, extra] = rest.trim().split(/\s+/);
  if (valueToken === undefined || extra !== undefined) return undefined;
  if (timestamp !== undefined && !/^-?\d+$/.test(timestamp)) return undefined;
  const value = parseSampleValue(valueToken);
  return value === undefined ? undefined : { name, labels, value };
}

/**
 * Parses exposition text. `keep` selects metric names early, so a large `/metrics` costs
 * little when only two families matter.
 */
export function parsePromText(text: string, keep?: (name: string) => boolean): ParsedText {
  const samples: TextSample[] = [];
  let badLines = 0;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    if (keep !== undefined) {
      const name = NAME.exec(line)?.[0];
      if (name !== undefined && !keep(name)) continue;
    }
    const sample = parseLine(line);
    if (sample === undefined) badLines++;
    else samples.push(sample);
  }
  return { samples, badLines };
}
