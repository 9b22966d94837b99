/** Starts the production build (`next start`) against a given service URL. */

import { FRONTEND, LOGS, AUTH_SECRET, SERVICE_SECRET } from "./environment";
import { type Started, freePort, start, waitForHttp } from "./processes";

export async function startWeb(name: string, serviceUrl: string, dataDir: string): Promise<{ process: Started; url: string }> {
  const port = await freePort();
  const process = start(name, "node", ["node_modules/next/dist/bin/next", "start", "--hostname", "127.0.0.1", "--port", String(port)], {
    cwd: FRONTEND,
    logDir: LOGS,
    env: {
      PATH: globalThis.process.env.PATH,
      HOME: globalThis.process.env.HOME,
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      SPOTTER_ENV: "production",
      SPOTTER_API_URL: serviceUrl,
      SPOTTER_AUTH_SECRET: SERVICE_SECRET,
      AUTH_SECRET,
      AUTH_TRUST_HOST: "true",
      SPOTTER_WEB_DATA_DIR: dataDir,
    },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/sign-in`, process, 60_000);
  return { process, url };
}
