/** The start-up check behind `instrumentation.ts` (Node.js only: it may end the process). */

import { webConfig } from "./index";

export function checkConfiguration(): void {
  try {
    webConfig();
  } catch (error) {
    console.error(`Spotter web cannot start: ${(error as Error).message}`);
    process.exit(1);
  }
}
