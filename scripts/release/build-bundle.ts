// The last step of `npm run build`: the one-file bundle packages/cli/dist/bluegreen.cjs.
import { bundle } from "./bundle.ts";

const { path, bytes } = await bundle();
console.log(`bundle ${path} (${(bytes / 1e6).toFixed(1)} MB)`);
