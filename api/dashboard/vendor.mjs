// Copies the pinned charting library from node_modules into static/vendor/ (run by
// `npm ci && npm run vendor`). The file name carries the version, so browsers may cache it
// for ever. After an upgrade, update the <script> tag in static/index.html.
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";

const source = "node_modules/echarts";
const { version } = JSON.parse(readFileSync(`${source}/package.json`, "utf8"));
const target = "static/vendor/echarts";
mkdirSync(target, { recursive: true });
for (const name of readdirSync(target)) {
  if (name.startsWith("echarts-") && name.endsWith(".min.js")) rmSync(`${target}/${name}`);
}
copyFileSync(`${source}/dist/echarts.min.js`, `${target}/echarts-${version}.min.js`);
copyFileSync(`${source}/LICENSE`, `${target}/LICENSE`);
copyFileSync(`${source}/NOTICE`, `${target}/NOTICE`);
copyFileSync(`${source}/licenses/LICENSE-d3`, `${target}/LICENSE-d3`);
console.log(`vendored echarts ${version} into ${target}/`);
