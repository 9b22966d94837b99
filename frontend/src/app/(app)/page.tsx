import type { Metadata } from "next";
import { ChatView } from "@/components/chat/ChatView";

export const metadata: Metadata = { title: "Chat · Spotter" };

export default function ChatPage() {
  return <ChatView />;
}
