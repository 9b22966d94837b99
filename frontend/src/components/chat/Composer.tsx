"use client";

import { type FormEvent, type KeyboardEvent, useState } from "react";

interface Props {
  readonly streaming: boolean;
  /** False until the page has its conversation id. */
  readonly ready: boolean;
  readonly onSend: (text: string) => void;
  readonly onStop: () => void;
}

const MAX_CHARS = 4000;

/** The message box: Enter sends, Shift+Enter adds a line; Stop replaces Send while a turn streams. */
export function Composer({ streaming, ready, onSend, onStop }: Props) {
  const [text, setText] = useState("");
  const canSend = ready && !streaming && text.trim().length > 0;

  function submit(event?: FormEvent) {
    event?.preventDefault();
    if (!canSend) return;
    onSend(text);
    setText("");
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  }

  return (
    <form className="composer" onSubmit={submit} aria-label="Send a message">
      <label htmlFor="chat-message" className="visually-hidden">
        Message
      </label>
      <textarea
        id="chat-message"
        name="message"
        rows={2}
        maxLength={MAX_CHARS}
        placeholder="Ask your coach…"
        aria-describedby="chat-message-hint"
        value={text}
        onChange={(event) => setText(event.target.value)}
        onKeyDown={onKeyDown}
        autoFocus
      />
      <p id="chat-message-hint" className="composer-hint">
        Enter to send · Shift+Enter for a new line
      </p>
      {streaming ? (
        <button type="button" className="button button-stop" onClick={onStop}>
          Stop
        </button>
      ) : (
        <button type="submit" className="button button-primary" disabled={!canSend}>
          Send
        </button>
      )}
    </form>
  );
}
