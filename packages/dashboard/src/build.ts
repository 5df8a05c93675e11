// `npm run build -w @bluegreen/dashboard`: bundles the page's assets into dist/assets/.
import { distDir, writeAssets } from "./assets.ts";

await writeAssets();
console.log(`dashboard assets written to ${distDir()}`);
