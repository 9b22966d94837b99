"use client";

import { useEffect, useRef } from "react";
import { recapMessage } from "@/chat/transcript";
import { useChat } from "@/chat/use-chat";
import { AnswerView } from "./AnswerView";
import { Composer } from "./Composer";

/** The chat page: transcript, composer and "New chat". */
export function ChatView() {
  const { state, send, stop, newChat } = useChat();
  const streaming = state.streamingId !== null;
  const end = useRef<HTMLDivElement>(null);

  useEffect(() => {
    end.current?.scrollIntoView({ block: "end" });
  }, [state.entries]);

  return (
    <section className="chat" aria-label="Chat" data-conversation-id={state.conversationId || undefined}>
      <div className="chat-toolbar">
        <h1 className="chat-title">Coach</h1>
        <button type="button" className="button button-ghost" onClick={newChat}>
          New chat
        </button>
      </div>
      <div className="transcript" role="log" aria-live="polite" aria-label="Conversation">
        {state.entries.length === 0 ? (
          <div className="empty">
            <p className="empty-title">Ask about training, technique or your own log.</p>
            <p className="muted">Answers cite their sources; your logged workouts are searched too.</p>
          </div>
        ) : null}
        {state.entries.map((entry) =>
          entry.kind === "user" ? (
            <article key={entry.id} className="message message-user">
              <p>{entry.text}</p>
            </article>
          ) : (
            <AnswerView
              key={entry.id}
              answer={entry}
              busy={streaming}
              onRetry={(answer) => send(answer.question)}
              onResend={(answer) => send(recapMessage(state.entries, answer.id))}
            />
          ),
        )}
        <div ref={end} />
      </div>
      <Composer streaming={streaming} ready={Boolean(state.conversationId)} onSend={send} onStop={() => void stop()} />
    </section>
  );
}
