/**
 * Runs once when the server starts: a missing or invalid setting (AUTH_SECRET outside
 * development, a short SPOTTER_AUTH_SECRET, a bad SPOTTER_API_URL) stops it here, with the
 * variable's name, instead of failing on the first request.
 */

export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME === "nodejs") {
    const { checkConfiguration } = await import("./server/config/startup-check");
    checkConfiguration();
  }
}
