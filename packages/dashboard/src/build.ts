// `npm run build -w @bluegreen/dashboard`: bundles the page's assets into dist/.
import { DIST_DIR, writeAssets } from "./assets.ts";

await writeAssets();
console.log(`dashboard assets written to ${DIST_DIR}`);
