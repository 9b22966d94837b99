/**
 * Creates the documented development account (`demo@spotter.local` / `spotter-demo`) in the
 * configured account store. Idempotent: an existing account is left as it is.
 */

import { CredentialAccounts } from "../src/server/accounts/credential-accounts";
import { accountRepository } from "../src/server/accounts/store";
import { readConfig } from "../src/server/config";

export const DEMO_EMAIL = "demo@spotter.local";
export const DEMO_PASSWORD = "spotter-demo";

async function main(): Promise<void> {
  const config = readConfig({ SPOTTER_ENV: "development", ...process.env });
  const repository = await accountRepository(config);
  try {
    if (await repository.findUserByEmail(DEMO_EMAIL)) {
      console.log(`seed: ${DEMO_EMAIL} already exists`);
      return;
    }
    const result = await new CredentialAccounts(repository).signUp(DEMO_EMAIL, DEMO_PASSWORD);
    if (!result.ok) throw new Error(result.problem);
    console.log(`seed: created ${DEMO_EMAIL} (password ${DEMO_PASSWORD})`);
  } finally {
    await repository.close();
  }
}

main().catch((error: unknown) => {
  console.error(`seed: ${(error as Error).message}`);
  process.exit(1);
});
