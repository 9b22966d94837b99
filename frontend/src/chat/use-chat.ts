"use client";

/**
 * The chat page's behaviour: a new random conversation id on load and on "New chat", one turn
 * at a time, Stop (cancel on the service, then abort), retry and resend.
 */

import { useCallback, useEffect, useReducer, useRef } from "react";
import { browserTimeZone, randomId } from "./ids";
import { chatReducer, initialChat } from "./transcript";
import { runTurn } from "./turn-client";

/** How long Stop waits for the stream to end by itself (with the turn's final `done`) before aborting. */
const STOP_GRACE_MS = 1500;

export function useChat() {
  // The id is made in the browser on load (not during server rendering), so every page load
  // starts a new conversation and the server's render never fixes one.
  const [state, dispatch] = useReducer(chatReducer, undefined, () => initialChat(""));
  const stateRef = useRef(state);
  useEffect(() => {
    stateRef.current = state;
  }, [state]);
  const running = useRef<{ answerId: string; abort: AbortController; finished: Promise<void> } | null>(null);

  useEffect(() => {
    dispatch({ type: "new-chat", conversationId: randomId() });
  }, []);

  const send = useCallback((text: string) => {
    const current = stateRef.current;
    const message = text.trim();
    if (!message || !current.conversationId || current.streamingId !== null || running.current) return;
    const answerId = randomId();
    const abort = new AbortController();
    dispatch({ type: "sent", userId: randomId(), answerId, text: message });
    const finished = runTurn(
      {
        conversationId: current.conversationId,
        turn: current.turn,
        message,
        idempotencyKey: randomId(),
        timeZone: browserTimeZone(),
      },
      (event) => dispatch({ type: "event", answerId, event }),
      { signal: abort.signal },
    ).then(
      (outcome) => dispatch({ type: "finished", answerId, outcome }),
      () => dispatch({ type: "finished", answerId, outcome: { kind: "dropped" } }),
    ).finally(() => {
      if (running.current?.answerId === answerId) running.current = null;
    });
    running.current = { answerId, abort, finished };
  }, []);

  const stop = useCallback(async () => {
    const turn = running.current;
    if (!turn) return;
    const conversationId = stateRef.current.conversationId;
    try {
      await fetch(`/api/v1/conversations/${conversationId}/cancel`, { method: "POST", signal: AbortSignal.timeout(STOP_GRACE_MS) });
    } catch {
      // The abort below stops the answer on this page either way.
    }
    await Promise.race([turn.finished, new Promise((resolve) => setTimeout(resolve, STOP_GRACE_MS))]);
    turn.abort.abort();
  }, []);

  const newChat = useCallback(() => {
    running.current?.abort.abort();
    running.current = null;
    dispatch({ type: "new-chat", conversationId: randomId() });
  }, []);

  return { state, send, stop, newChat };
}
