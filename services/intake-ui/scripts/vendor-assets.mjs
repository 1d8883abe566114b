// Copies the pinned browser assets from node_modules into the package's static folder.
// The copies are committed, so `make run` never needs npm; rerun after changing a version.
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const vendor = join(root, "src", "intake_ui", "static", "vendor");
const assets = [
  ["@picocss/pico/css/pico.min.css", "pico.min.css"],
  ["@picocss/pico/LICENSE.md", "pico.LICENSE.md"],
  ["htmx.org/dist/htmx.min.js", "htmx.min.js"],
  ["htmx.org/LICENSE", "htmx.LICENSE"],
];

mkdirSync(vendor, { recursive: true });
for (const [source, target] of assets) {
  copyFileSync(join(root, "node_modules", source), join(vendor, target));
  console.log(`vendored ${source} -> static/vendor/${target}`);
}
