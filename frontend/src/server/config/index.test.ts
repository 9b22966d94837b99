import { describe, expect, it } from "vitest";
import { DEVELOPMENT_SERVICE_SECRET, readConfig } from "./index";

const PRODUCTION = {
  SPOTTER_ENV: "production",
  SPOTTER_AUTH_SECRET: "a-real-service-secret-of-at-least-32-bytes",
  AUTH_SECRET: "a-real-auth-secret-of-at-least-32-bytes!!",
};

describe("readConfig", () => {
  it("has development defaults matching the service's development secret", () => {
    const config = readConfig({ SPOTTER_ENV: "development" });
    expect(new TextDecoder().decode(config.serviceSecret)).toBe(DEVELOPMENT_SERVICE_SECRET);
    expect(config.apiUrl).toBe("http://127.0.0.1:8000");
    expect(config.databaseUrl).toBeNull();
    expect(config.github).toBeNull();
  });

  it("names the missing variable outside development", () => {
    expect(() => readConfig({ ...PRODUCTION, AUTH_SECRET: "" })).toThrow(/AUTH_SECRET/);
    expect(() => readConfig({ ...PRODUCTION, SPOTTER_AUTH_SECRET: undefined })).toThrow(/SPOTTER_AUTH_SECRET/);
    expect(() => readConfig({ ...PRODUCTION, SPOTTER_AUTH_SECRET: DEVELOPMENT_SERVICE_SECRET })).toThrow(/development secret/);
    expect(() => readConfig({ ...PRODUCTION, SPOTTER_AUTH_SECRET: "short" })).toThrow(/at least 32 bytes/);
    expect(() => readConfig({ ...PRODUCTION, SPOTTER_API_URL: "ftp://x" })).toThrow(/SPOTTER_API_URL/);
    expect(() => readConfig({ ...PRODUCTION, AUTH_GITHUB_ID: "id" })).toThrow(/AUTH_GITHUB_SECRET/);
  });

  it("enables an OAuth provider only with both of its variables", () => {
    const config = readConfig({ ...PRODUCTION, AUTH_GOOGLE_ID: "id", AUTH_GOOGLE_SECRET: "secret", SPOTTER_API_URL: "http://svc:8000/" });
    expect(config.google).toEqual({ id: "id", secret: "secret" });
    expect(config.github).toBeNull();
    expect(config.apiUrl).toBe("http://svc:8000");
  });
});
