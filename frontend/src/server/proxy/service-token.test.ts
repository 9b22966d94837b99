import { decodeProtectedHeader, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { SERVICE_TOKEN_LIFETIME_SECONDS, mintServiceToken } from "./service-token";

const SECRET = new TextEncoder().encode("a-service-secret-of-at-least-32-bytes!!");
const NOW = Date.UTC(2026, 0, 2, 3, 4, 5, 678);

describe("mintServiceToken", () => {
  it("mints an HS256 JWT that a standard verifier accepts, with exactly the service's claims", async () => {
    const token = mintServiceToken(SECRET, "credentials:0b6f7e0e-4c8e-4bb0-9d4e-2f7f1c0a9a11", NOW);
    const { payload, protectedHeader } = await jwtVerify(token, SECRET, {
      audience: "spotter",
      issuer: "spotter-web",
      algorithms: ["HS256"],
      currentDate: new Date(NOW),
    });
    expect(protectedHeader).toEqual({ alg: "HS256", typ: "JWT" });
    const iat = Math.floor(NOW / 1000);
    expect(payload).toEqual({
      sub: "credentials:0b6f7e0e-4c8e-4bb0-9d4e-2f7f1c0a9a11",
      aud: "spotter",
      iss: "spotter-web",
      iat,
      exp: iat + SERVICE_TOKEN_LIFETIME_SECONDS,
    });
  });

  it("signs with the given secret only", async () => {
    const token = mintServiceToken(SECRET, "github:42", NOW);
    const other = new TextEncoder().encode("another-secret-of-at-least-32-bytes!!!!");
    await expect(jwtVerify(token, other, { currentDate: new Date(NOW) })).rejects.toThrow();
    const [header, , signature] = token.split(".");
    const forged = `${header}.${Buffer.from('{"sub":"github:1"}').toString("base64url")}.${signature}`;
    await expect(jwtVerify(forged, SECRET, { currentDate: new Date(NOW) })).rejects.toThrow();
    expect(decodeProtectedHeader(token).alg).toBe("HS256");
  });

  it("expires after its lifetime", async () => {
    const token = mintServiceToken(SECRET, "github:42", NOW);
    const later = new Date(NOW + (SERVICE_TOKEN_LIFETIME_SECONDS + 1) * 1000);
    await expect(jwtVerify(token, SECRET, { currentDate: later })).rejects.toThrow(/exp/);
  });

  it("refuses a subject outside the namespaced pattern", () => {
    expect(() => mintServiceToken(SECRET, "no-namespace", NOW)).toThrow(/invalid subject/);
    expect(() => mintServiceToken(SECRET, 'github:1","sub":"github:2', NOW)).toThrow(/invalid subject/);
  });
});
