import type { Metadata } from "next";
import { DeleteAccount } from "@/components/settings/DeleteAccount";
import { TokensPanel } from "@/components/settings/TokensPanel";

export const metadata: Metadata = { title: "Settings · Spotter" };

export default function SettingsPage() {
  return (
    <div className="page">
      <h1>Settings</h1>
      <TokensPanel />
      <DeleteAccount />
    </div>
  );
}
