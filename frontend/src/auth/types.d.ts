// The namespaced user id (`credentials:<uuid>`, `github:<id>`, ...) travels in the session JWT.
import "next-auth";
import "@auth/core/jwt";

declare module "next-auth" {
  interface Session {
    subject?: string;
  }
}

declare module "@auth/core/jwt" {
  interface JWT {
    subject?: string;
  }
}
