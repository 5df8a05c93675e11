import { main } from "./cli.ts";

/** The `bluegreen` executable: runs one command and exits with its code. */
const code = await main(process.argv.slice(2));
process.exit(code);
