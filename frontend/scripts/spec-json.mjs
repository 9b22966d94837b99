// Writes the bundled OpenAPI 3.2 document as JSON so the proxy's validators are compiled from
// the spec itself (imported at build time, never read from disk at run time).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { parse } from "yaml";

const [source, target] = process.argv.slice(2);
if (!source || !target) {
  console.error("usage: node scripts/spec-json.mjs SOURCE.yaml TARGET.json");
  process.exit(2);
}
const spec = parse(readFileSync(source, "utf8"));
if (typeof spec?.openapi !== "string" || !spec.openapi.startsWith("3.2")) {
  console.error(`${source} is not an OpenAPI 3.2 document`);
  process.exit(1);
}
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, JSON.stringify(spec, null, 2) + "\n");
