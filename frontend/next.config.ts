import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // Native and optional server-only packages are loaded from node_modules, not bundled.
  serverExternalPackages: ["better-sqlite3", "pg", "bcryptjs"],
  poweredByHeader: false,
  // A self-contained server (`.next/standalone/server.js`) for the container image.
  output: "standalone",
  typedRoutes: false,
  // `compress` stays on for pages; streamed answers opt out with `Cache-Control: no-transform`.
};

export default nextConfig;
